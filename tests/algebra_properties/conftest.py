"""Hypothesis profiles and the per-backend pool of declared schema shapes.

Profiles: ``ci`` (the default here: 200 examples per law per backend, derandomized, no deadline,
no example database) and ``thorough`` (2,000 examples), chosen with
``pytest tests/algebra_properties --hypothesis-profile thorough``. Other profile names fall back
to ``ci`` for these tests, so loading a profile elsewhere in the suite does not change them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from .harness import Pool
from .strategies import generate_shapes

_HEALTH = [
    HealthCheck.function_scoped_fixture,  # the pool is per backend, rows are rolled back
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
]
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=_HEALTH,
)


def active_profile() -> settings:
    """The settings for these tests: ``thorough`` when that profile is loaded, else ``ci``."""
    name = settings.get_current_profile_name()
    return settings.get_profile("thorough" if name == "thorough" else "ci")


SHAPES = generate_shapes()


@pytest.fixture(scope="session")
def _algebra_pools() -> Iterator[dict[str, Pool]]:
    pools: dict[str, Pool] = {}
    try:
        yield pools
    finally:
        for pool in pools.values():
            pool.close()


@pytest.fixture
def algebra_pool(
    dj_backend: str, _algebra_pools: dict[str, Pool], tmp_path_factory: pytest.TempPathFactory
) -> Pool:
    """The shapes declared on ``dj_backend`` (declared on first use, kept for the session)."""
    pool = _algebra_pools.get(dj_backend)
    if pool is None:
        path = tmp_path_factory.mktemp("algebra") / "shapes.sqlite3"
        pool = Pool.open(dj_backend, path, SHAPES)
        _algebra_pools[dj_backend] = pool
    return pool
