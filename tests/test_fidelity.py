"""Every backend keeps the same values and refuses the same ones (datajoint.testing.fidelity)."""

from __future__ import annotations

import pytest

from datajoint.testing.fidelity import FIDELITY_CASES, FidelityCase, check_case


@pytest.mark.parametrize("case", FIDELITY_CASES, ids=lambda c: c.id)
def test_fidelity(dj_schema, case: FidelityCase) -> None:
    check_case(dj_schema, case)
