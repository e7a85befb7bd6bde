"""Lake and raw-archive roots as URIs over `pyarrow.fs` filesystems.

A root is a local path (`/srv/quxian/lake`, `file:///srv/quxian/lake`) or a URI of an object
store or remote filesystem: `s3://bucket/prefix` (AWS S3 or any S3 API: MinIO, Ceph, moto),
`gs://…`, `hdfs://…`, `abfs://…` through pyarrow's own filesystems, and any other fsspec
protocol (when its fsspec package is installed) through pyarrow's fsspec bridge.

Credentials are never in the URI or the repository. For `s3://` they come, in this order, from:
1. the Airflow connection named by `QUXIAN_LAKE_CONN_ID` (type `aws`: login = access key id,
   password = secret key, extra `{"endpoint_url": …, "region_name": …}`), resolved by the Task SDK
   (so secrets backends and `AIRFLOW_CONN_<ID>` variables work);
2. the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
   `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (S3-compatible
   stores), then the AWS SDK's own chain (profiles, instance roles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs


class LakeURIError(ValueError):
    """A root URI that names no filesystem this installation can open."""


@dataclass(frozen=True)
class Location:
    """A root on a filesystem: `fs` plus the path of the root inside it (no trailing `/`)."""

    fs: pafs.FileSystem
    root: str
    uri: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def join(self, *parts: str) -> str:
        """The filesystem path of `parts` under the root (`/`-joined, as pyarrow expects)."""
        return "/".join([self.root, *parts]) if self.root else "/".join(parts)

    def url(self, *parts: str) -> str:
        """The URI of `parts` under the root, for messages and for readers such as DuckDB."""
        return "/".join([self.uri.rstrip("/"), *parts])


def is_local_uri(uri: str | Path) -> bool:
    """True for a plain path or a `file://` URI."""
    if isinstance(uri, Path):
        return True
    scheme = urlsplit(uri).scheme
    # A one-letter scheme is a Windows drive letter, not a protocol.
    return scheme in ("", "file") or len(scheme) == 1


def local_path(uri: str | Path) -> Path:
    """The absolute local path of a plain path or `file://` URI; LakeURIError otherwise."""
    if isinstance(uri, Path):
        return uri.resolve()
    if not is_local_uri(uri):
        raise LakeURIError(f"{uri!r} is not a local path")
    parts = urlsplit(uri)
    return Path(parts.path if parts.scheme == "file" else uri).resolve()


def _endpoint(url: str | None) -> dict[str, str]:
    """pyarrow's `endpoint_override`/`scheme` from an endpoint URL like `http://127.0.0.1:9000`."""
    if not url:
        return {}
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return {"endpoint_override": parts.netloc, "scheme": parts.scheme}


def s3_options(env: dict[str, str] | None = None) -> dict[str, object]:
    """Keyword arguments for `pyarrow.fs.S3FileSystem`, from the Airflow connection named by
    `QUXIAN_LAKE_CONN_ID` when set, else from the AWS environment variables (see module doc)."""
    env = dict(os.environ if env is None else env)
    opts: dict[str, object] = {}
    conn_id = env.get("QUXIAN_LAKE_CONN_ID")
    if conn_id:
        # Late import: only deployments that use a connection pay for the Task SDK.
        from airflow.sdk import Connection

        conn = Connection.get(conn_id)
        extra = conn.extra_dejson or {}
        if conn.login:
            opts["access_key"] = conn.login
            opts["secret_key"] = conn.password or ""
        if extra.get("aws_session_token"):
            opts["session_token"] = extra["aws_session_token"]
        if extra.get("region_name"):
            opts["region"] = extra["region_name"]
        opts.update(_endpoint(extra.get("endpoint_url") or (extra.get("endpoint_override"))))
        return opts
    if env.get("AWS_ACCESS_KEY_ID"):
        opts["access_key"] = env["AWS_ACCESS_KEY_ID"]
        opts["secret_key"] = env.get("AWS_SECRET_ACCESS_KEY", "")
        if env.get("AWS_SESSION_TOKEN"):
            opts["session_token"] = env["AWS_SESSION_TOKEN"]
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        opts["region"] = region
    opts.update(_endpoint(env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")))
    return opts


def resolve(uri: str | Path | Location) -> Location:
    """Open the filesystem a root URI names. Raises LakeURIError when nothing can open it."""
    if isinstance(uri, Location):
        return uri
    if is_local_uri(uri):
        path = local_path(uri)
        return Location(pafs.LocalFileSystem(), path.as_posix(), path.as_uri())
    parts = urlsplit(uri)
    root = f"{parts.netloc}{parts.path}".rstrip("/")
    if parts.scheme in ("s3", "s3a"):
        return Location(pafs.S3FileSystem(**s3_options()), root, f"s3://{root}")
    try:
        fs, path = pafs.FileSystem.from_uri(uri)
        return Location(fs, path.rstrip("/"), uri.rstrip("/"))
    except (pa.ArrowInvalid, ValueError, OSError) as arrow_error:
        # pyarrow has no filesystem of its own for this scheme: try fsspec's.
        try:
            import fsspec
        except ImportError:
            raise LakeURIError(
                f"{uri!r}: pyarrow cannot open it ({arrow_error}) and fsspec is missing"
            ) from None
        try:
            fs_spec = fsspec.filesystem(parts.scheme)
        except (ImportError, ValueError) as e:
            raise LakeURIError(
                f"{uri!r}: no pyarrow or fsspec filesystem for {parts.scheme!r}: {e}"
            ) from None
        return Location(pafs.PyFileSystem(pafs.FSSpecHandler(fs_spec)), root, uri.rstrip("/"))


def ensure_dir(loc: Location, path: str) -> None:
    """Create a directory (a no-op on object stores, whose "directories" are key prefixes)."""
    loc.fs.create_dir(path, recursive=True)


def upload_tree(src: Path, dest: str | Path | Location, *, prefix: str = "") -> list[str]:
    """Copy every file under local `src` to `dest/prefix/…` (each file one atomic PUT on object
    storage); returns the destination paths. For the raw archive: WARC files are written
    locally by Scrapy, then shipped to the raw root."""
    loc = resolve(dest)
    written = []
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        rel = f.relative_to(src).as_posix()
        target = loc.join(*(x for x in (prefix, rel) if x))
        if loc.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        pafs.copy_files(
            str(f), target, source_filesystem=pafs.LocalFileSystem(), destination_filesystem=loc.fs
        )
        written.append(target)
    return written


def dataset(uri: str | Path | Location, name: str):  # noqa: ANN201 - pyarrow.dataset.Dataset
    """A hive-partitioned `pyarrow.dataset` over one lake dataset (`articles`, …), local or
    remote, with `district` (string) and `date` (date32) partition columns. DuckDB queries it
    directly (`con.register(name, ds)`), with no DuckDB extension to install."""
    import pyarrow.dataset as pads

    loc = resolve(uri)
    partitioning = pads.partitioning(
        pa.schema([("district", pa.string()), ("date", pa.date32())]), flavor="hive"
    )
    return pads.dataset(
        loc.join(name),
        filesystem=loc.fs,
        format="parquet",
        partitioning=partitioning,
        # Hidden temporaries of a writer in flight are not part of the dataset.
        exclude_invalid_files=False,
        ignore_prefixes=[".", "_"],
    )
