"""Query-string arguments on the server side: the method's own are decoded, Jupyter's transport
parameters and JupyterLab's ``?<timestamp>`` cache buster are ignored, anything else is refused."""

from __future__ import annotations

import pytest

from raise_.api.calls import bindings, decode_arguments
from raise_.errors import InvalidArgumentError

GROUP = {"group_path": "acme/ml/rec/user-signals"}


def decode(query: dict[str, list[str]]) -> dict[str, object]:
    return decode_arguments(bindings()["list_features"], GROUP, query, b"", "")


def test_the_methods_arguments_are_decoded_by_their_hints() -> None:
    assert decode({"all_versions": ["true"], "tags": ['["a","b"]']}) == {
        **GROUP,
        "all_versions": True,
        "tags": ["a", "b"],
    }


@pytest.mark.parametrize(
    "query",
    [
        {"1732330000000": [""]},  # ServerConnection.makeRequest with cache "no-store"
        {"token": ["abc"], "_xsrf": ["x"]},
        {"1732330000000": [""], "token": ["abc"], "all_versions": ["true"]},
    ],
    ids=["cache-buster", "jupyter-auth", "mixed"],
)
def test_transport_parameters_are_ignored(query: dict[str, list[str]]) -> None:
    expected = {**GROUP, "all_versions": True} if "all_versions" in query else GROUP
    assert decode(query) == expected


@pytest.mark.parametrize("name", ["allversions", "12a", "١٢٣", "-1"])
def test_other_unknown_arguments_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"list_features takes no argument '{name}'") as err:
        decode({name: ["1"]})
    assert err.value.details == {"argument": name}
