"""The Scrapy project: one spider per platform (`spiders.platforms`), an outlet is a registry entry.

Run from the checkout: `scrapy crawl <platform> -a outlet=<id> -a date_from=YYYY-MM-DD -a date_to=…`.
"""
