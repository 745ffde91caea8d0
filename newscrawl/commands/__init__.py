"""Project commands for `scrapy`: `crawl` here adds the archive lock and a meaningful exit code."""
