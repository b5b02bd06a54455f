"""The storage protocols of dj-storage: ``file``, ``memory``, ``s3``, ``gcs`` and ``azure`` (SPEC §14).

Each is a :class:`datajoint.StorageAdapter` registered through the
``dj_register_storage_protocols`` hook, like a third party's. The fsspec driver of a cloud
protocol (s3fs, gcsfs, adlfs) is imported when a filesystem is first built; a missing one gives a
DataJointError naming the extra to install.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import fsspec

from datajoint import DataJointError, StorageAdapter
from datajoint.storage import join_path

__all__ = ["AzureAdapter", "FileAdapter", "GCSAdapter", "MemoryAdapter", "S3Adapter"]


def _driver(module: str, protocol: str, extra: str) -> ModuleType:
    """Import the fsspec driver of ``protocol``; missing: DataJointError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise DataJointError(
            f'The "{protocol}" storage protocol needs the {module} package. Install it with: '
            f'pip install "dj-kernel[{extra}]"'
        ) from error


class FileAdapter(StorageAdapter):
    """A directory of the local (or a mounted) filesystem; ``location`` must exist."""

    protocol = "file"
    required_keys = ("location",)

    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """fsspec's local filesystem, creating parent directories on write (``auto_mkdir``).

        A ``location`` that is not an existing directory raises FileNotFoundError.
        """
        location = str(spec["location"])
        if not Path(location).is_dir():
            raise FileNotFoundError(f"Inaccessible local directory {location}")
        return fsspec.filesystem("file", auto_mkdir=True)

    def get_url(self, spec: Mapping[str, Any], path: str) -> str:
        """The absolute local path."""
        return os.path.abspath(path)


class MemoryAdapter(StorageAdapter):
    """fsspec's in-process memory filesystem (shared by the whole process; for tests and demos).

    ``location`` is optional and may be any path.
    """

    protocol = "memory"

    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """fsspec's memory filesystem."""
        return fsspec.filesystem("memory")

    def full_path(self, spec: Mapping[str, Any], relpath: str) -> str:
        """``/location/relpath`` (memory paths are absolute)."""
        return "/" + join_path(str(spec.get("location") or ""), relpath)


class _BucketAdapter(StorageAdapter):
    """A protocol whose paths start with a bucket (or container): ``bucket/location/relpath``."""

    url_scheme = ""

    def bucket(self, spec: Mapping[str, Any]) -> str:
        """The bucket (or container) name of the store."""
        return str(spec["bucket"])

    def full_path(self, spec: Mapping[str, Any], relpath: str) -> str:
        """``bucket/location/relpath`` (``bucket/relpath`` without a location)."""
        return join_path(self.bucket(spec), str(spec.get("location") or ""), relpath)

    def get_url(self, spec: Mapping[str, Any], path: str) -> str:
        """``<scheme>://bucket/...``."""
        return f"{self.url_scheme}://{path}"


class S3Adapter(_BucketAdapter):
    """Amazon S3 or any S3-compatible server, through s3fs.

    ``endpoint`` without a scheme gets ``https://`` when ``secure`` is true, else ``http://``
    (``secure`` defaults to false here; ``dj.config`` store settings default it to true).
    ``access_key`` and ``secret_key`` go together; with neither, ambient credentials are used.
    ``proxy_server`` is used for http and https.
    """

    protocol = "s3"
    url_scheme = "s3"
    required_keys = ("endpoint", "bucket")
    allowed_keys = ("access_key", "secret_key", "secure", "proxy_server")

    def validate_spec(self, spec: Mapping[str, Any]) -> None:
        """Endpoint and bucket are required; the credentials are both set or both absent."""
        missing = [key for key in self.required_keys if not spec.get(key)]
        if missing:
            raise DataJointError(
                f"Missing S3 configuration: {', '.join(missing)}. Set them in the store settings."
            )
        has_key, has_secret = bool(spec.get("access_key")), bool(spec.get("secret_key"))
        if has_key != has_secret:
            given, absent = (
                ("access_key", "secret_key") if has_key else ("secret_key", "access_key")
            )
            raise DataJointError(
                f"Incomplete S3 credentials: {given} is set but {absent} is not. Set both, or "
                "neither to use the ambient AWS credentials."
            )
        super().validate_spec(spec)

    def endpoint_url(self, spec: Mapping[str, Any]) -> str:
        """The endpoint with a scheme (``https://`` when ``secure``, else ``http://``)."""
        endpoint = str(spec["endpoint"])
        if "://" in endpoint:
            return endpoint
        return ("https://" if spec.get("secure", False) else "http://") + endpoint

    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """An s3fs filesystem for the endpoint; listings are not cached (other writers exist)."""
        s3fs = _driver("s3fs", "s3", "s3")
        options: dict[str, Any] = {
            "client_kwargs": {"endpoint_url": self.endpoint_url(spec)},
            "use_listings_cache": False,
        }
        if spec.get("access_key"):
            options["key"] = spec["access_key"]
            options["secret"] = spec["secret_key"]
        if spec.get("proxy_server"):
            proxy = str(spec["proxy_server"])
            options["config_kwargs"] = {"proxies": {"http": proxy, "https": proxy}}
        return s3fs.S3FileSystem(**options)


class GCSAdapter(_BucketAdapter):
    """Google Cloud Storage, through gcsfs (``token``: a credentials file, ``"anon"``, ...)."""

    protocol = "gcs"
    url_scheme = "gs"
    required_keys = ("bucket",)
    allowed_keys = ("token", "project")

    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """A gcsfs filesystem with the store's ``token`` and ``project``."""
        gcsfs = _driver("gcsfs", "gcs", "gcs")
        options = {key: spec[key] for key in ("token", "project") if spec.get(key) is not None}
        return gcsfs.GCSFileSystem(**options)


class AzureAdapter(_BucketAdapter):
    """Azure Blob Storage, through adlfs; the container is ``container`` (or ``bucket``)."""

    protocol = "azure"
    url_scheme = "az"
    allowed_keys = (
        "container",
        "bucket",
        "account_name",
        "account_key",
        "connection_string",
    )

    def validate_spec(self, spec: Mapping[str, Any]) -> None:
        """A container (``container`` or ``bucket``) is required; other keys as usual."""
        if not spec.get("container") and not spec.get("bucket"):
            raise DataJointError("azure store is missing: container")
        super().validate_spec(spec)

    def bucket(self, spec: Mapping[str, Any]) -> str:
        """The container name."""
        return str(spec.get("container") or spec["bucket"])

    def create_filesystem(self, spec: Mapping[str, Any]) -> Any:
        """An adlfs filesystem with the store's account name, key or connection string."""
        adlfs = _driver("adlfs", "azure", "azure")
        options = {
            key: spec[key]
            for key in ("account_name", "account_key", "connection_string")
            if spec.get(key) is not None
        }
        return adlfs.AzureBlobFileSystem(**options)
