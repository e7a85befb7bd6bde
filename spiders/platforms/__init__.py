"""One spider per platform; each reads its outlet's registry entry (`-a outlet=<id>`)."""
