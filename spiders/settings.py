"""Scrapy settings of the quxian project.

Polite by default: robots.txt obeyed, one request at a time per domain, a delay and AutoThrottle.
`-s QUXIAN_POLITE=0` (tests, benchmarks against the offline sites) drops the delay and AutoThrottle
and raises concurrency; the spiders apply it in `update_settings`.
"""

BOT_NAME = "quxian"
SPIDER_MODULES = ["spiders.platforms"]
NEWSPIDER_MODULE = "spiders.platforms"

USER_AGENT = "quxian/0.1 (+https://github.com/quxian/quxian; district news research)"
ROBOTSTXT_OBEY = True

CONCURRENT_REQUESTS = 8
# Scrapy starts this many asyncio tasks for every callback's output (default 100), whatever it
# yields; a page here yields at most a few dozen links and items and no pipeline waits on I/O.
# Measured on 32 generated outlets in batches of 16: 8.8–9.3 s of crawl CPU at 100, 7.0–8.0 at 16,
# 5.9–7.5 at 8.
CONCURRENT_ITEMS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 2.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# Seconds before retry n: base * 2**(n-1), capped (spiders.middlewares.BackoffRetryMiddleware).
QUXIAN_RETRY_BACKOFF_BASE = 2.0
QUXIAN_RETRY_BACKOFF_MAX = 60.0

QUXIAN_POLITE = True
# Set per outlet by the crawl step (spiders.batch): where the WARC archive, the stats file and the
# outlet's own log go.
QUXIAN_WARC_DIR = None
QUXIAN_STATS_FILE = None
QUXIAN_LOG_FILE = None
# When set (or env QUXIAN_OFFLINE_URL), registry hosts are fetched from the offline sites server.
QUXIAN_OFFLINE_URL = None

DOWNLOADER_MIDDLEWARES = {
    # Offsite also for redirects of retried requests (see RedirectOffsiteMiddleware).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "spiders.middlewares.RedirectOffsiteMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    # After Offsite (50) and RobotsTxt (100) so both see real hosts; last before the download.
    "spiders.middlewares.OfflineRoutingMiddleware": 950,
}
DOWNLOAD_HANDLERS = {
    "http": "spiders.middlewares.OfflineAwareDownloadHandler",
    "https": "spiders.middlewares.OfflineAwareDownloadHandler",
}
EXTENSIONS = {
    "spiders.extensions.WarcArchive": 500,
    "spiders.extensions.CrawlReport": 510,
    # Per-outlet log file when several outlets share one process (spiders.batch).
    "spiders.extensions.OutletLog": 520,
}

# No control servers inside a crawl: neither the telnet console nor Scrapy 2.19's remote-control
# HTTP endpoint (it executes code sent to it and writes job files).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
