"""quxian (区县): nightly scraping pipeline for the district-level local press of Chongqing."""

__version__ = "0.1.0"
