"""Every coded error carries code, message and details, and survives the wire (PRD §20.4)."""

from __future__ import annotations

import pytest

from raise_ import errors
from raise_.errors import FeatureNotFoundError, RaiseError, error_class_for_code, error_from_dict

PRD_CODES = ["FEATURE_NOT_FOUND", "FEATURE_EXISTS", "INVALID_DTYPE", "INVALID_NAME", "PERMISSION_DENIED"]


@pytest.mark.parametrize("code", PRD_CODES)
def test_prd_codes_have_classes(code: str) -> None:
    cls = error_class_for_code(code)
    assert cls is not RaiseError and cls.code == code


def test_codes_are_unique_and_statuses_are_http() -> None:
    classes = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
    coded = [c for c in classes if issubclass(c, RaiseError)]
    codes = [c.code for c in coded]
    assert len(codes) == len(set(codes))
    assert all(400 <= c.http_status < 600 for c in coded)


def test_error_body_round_trips() -> None:
    err = FeatureNotFoundError("Feature 'x' not found in group 'g'", {"group": "g", "feature": "x"})
    body = err.to_dict()
    assert body == {
        "error": {
            "code": "FEATURE_NOT_FOUND",
            "message": "Feature 'x' not found in group 'g'",
            "details": {"group": "g", "feature": "x"},
        }
    }
    again = error_from_dict(body)
    assert type(again) is FeatureNotFoundError
    assert (again.message, again.details) == (err.message, err.details)
    assert str(again) == "[FEATURE_NOT_FOUND] Feature 'x' not found in group 'g'"


def test_unknown_code_falls_back_to_base_class() -> None:
    err = error_from_dict({"error": {"code": "SOMETHING_NEW", "message": "m"}})
    assert type(err) is RaiseError and err.message == "m"
