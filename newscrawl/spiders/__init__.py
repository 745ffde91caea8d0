"""Spiders navigate: they decide what to fetch and hand pages to the extractors."""
