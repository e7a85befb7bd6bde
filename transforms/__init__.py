"""Pure transforms: raw pages → extracted fields → cleaned records → stories → Parquet."""
