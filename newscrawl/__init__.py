"""newscrawl: a Scrapy crawler that archives a news category into SQLite."""
