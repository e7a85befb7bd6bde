"""Offline outlet sites: one local HTTP server that renders every `offline: true` outlet of the
registry from the story files, by the request's `Host` header (see `quxian.sites.server`)."""
