"""What a run asks of a Kubernetes node: CPU, memory, scratch disk and GPUs (PRD §18.14).

Quantities are Kubernetes' own (``"500m"``, ``"2Gi"``), checked here because the OpenAPI schema
types them only as "string or number": a ``"2GB"`` would pass offline validation and be refused
by the API server at submission, far from where it was written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from raise_.errors import InvalidArgumentError

#: One list of GPU models for inference specs and pods (README *GPU Types*).
from raise_.inference.specs import GPUType

__all__ = ["GPU_RESOURCE", "GPUType", "ResourceRequest", "parse_quantity"]

#: The extended resource NVIDIA's device plugin advertises (and GKE's, EKS's and AKS's GPU nodes).
GPU_RESOURCE: Final = "nvidia.com/gpu"


_NUMBER: Final = r"(?:\d+\.?\d*|\.\d+)"
# Kubernetes' quantity grammar (k8s.io/apimachinery/pkg/api/resource): a number, then a binary SI
# suffix, an exponent or a decimal SI suffix. The exponent comes before the decimal suffixes so
# "1E3" is 1000, not "1 exa" followed by garbage. No sign: a request is never negative.
_QUANTITY: Final = re.compile(rf"\+?(?P<number>{_NUMBER})(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?{_NUMBER}|[mkMGTPE])?")
_MULTIPLIERS: Final[Mapping[str, Decimal]] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
QUANTITY_FORMS: Final = (
    "a number with an optional suffix: binary Ki, Mi, Gi, Ti, Pi, Ei ('2Gi' = 2·1024³), decimal k, M, G, T, P, E "
    "('2G' = 2·10⁹), m for thousandths ('500m' CPU = half a core), or an exponent ('2e9')"
)


def parse_quantity(value: object, what: str) -> Decimal:
    """The amount a Kubernetes quantity string stands for (``"2Gi"`` → 2147483648)."""
    text = value.strip() if isinstance(value, str) else ""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        hint = ""
        unit = text[-2:-1].upper().replace("K", "k")
        if text[-1:] in ("B", "b") and unit in _MULTIPLIERS and unit and _QUANTITY.fullmatch(text[:-2] + unit):
            decimal, binary = text[:-2] + unit, text[:-2] + unit.upper() + "i"
            hint = f" Kubernetes writes no 'B': {text!r} is {decimal!r} (decimal) or {binary!r} (binary)."
        raise InvalidArgumentError(
            f"{what} {value!r} is not a Kubernetes quantity; write {QUANTITY_FORMS}.{hint}", {"field": what}
        )
    suffix = match.group("suffix") or ""
    try:
        number = Decimal(match.group("number"))
        if suffix[:1] in ("e", "E") and suffix not in _MULTIPLIERS:
            return number * Decimal(10) ** Decimal(suffix[1:])
        return number * _MULTIPLIERS[suffix]
    except (InvalidOperation, ArithmeticError):
        raise InvalidArgumentError(f"{what} {value!r} is out of range.", {"field": what}) from None


def _positive_quantity(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise InvalidArgumentError(
            f"{what} must be a Kubernetes quantity string, got {value!r}; write {QUANTITY_FORMS}.", {"field": what}
        )
    if parse_quantity(value, what) <= 0:
        raise InvalidArgumentError(f"{what} must be more than zero, got {value!r}.", {"field": what})
    return value.strip()


def _cpu_quantity(value: object) -> str:
    if isinstance(value, bool):
        raise InvalidArgumentError(f"cpu must be a number of cores or a quantity, got {value!r}.", {"field": "cpu"})
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            raise InvalidArgumentError(f"cpu must be more than zero cores, got {value!r}.", {"field": "cpu"})
        # Kubernetes keeps CPU to the millicore and rounds a finer request up: so does this.
        millis = math.ceil(round(value * 1000, 6))
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
    quantity = _positive_quantity(value, "cpu")
    if parse_quantity(quantity, "cpu") < Decimal("0.001"):
        raise InvalidArgumentError(
            f"cpu must be at least 1m (a thousandth of a core), got {value!r}.", {"field": "cpu"}
        )
    return quantity


@dataclass(frozen=True)
class ResourceRequest:
    """The resources of a run's pod.

    ``cpu`` is cores (``1``, ``0.5``) or a quantity (``"500m"``); ``memory`` and
    ``ephemeral_storage`` quantities (``"2Gi"``) are requested and also the limit (a pod over its
    memory is killed rather than starving its node's other pods; CPU is not limited, only
    requested, so a run is never throttled below what the node can spare). ``gpu_count`` GPUs
    of ``gpu_type`` (any GPU node when None) are the ``nvidia.com/gpu`` limit.
    """

    cpu: str | float = "1"
    memory: str = "2Gi"
    gpu_count: int = 0
    gpu_type: GPUType | str | None = None
    ephemeral_storage: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cpu", _cpu_quantity(self.cpu))
        object.__setattr__(self, "memory", _positive_quantity(self.memory, "memory"))
        if self.ephemeral_storage is not None:
            object.__setattr__(
                self, "ephemeral_storage", _positive_quantity(self.ephemeral_storage, "ephemeral_storage")
            )
        if isinstance(self.gpu_count, bool) or not isinstance(self.gpu_count, int) or self.gpu_count < 0:
            raise InvalidArgumentError(
                f"gpu_count must be a whole number ≥ 0, got {self.gpu_count!r}.", {"field": "gpu_count"}
            )
        if self.gpu_type is not None:
            gpu = GPUType.parse(self.gpu_type)
            if self.gpu_count == 0:
                raise InvalidArgumentError(
                    f"gpu_type {gpu.name} was given with gpu_count 0: "
                    "set gpu_count to the number of GPUs the run needs.",
                    {"field": "gpu_type"},
                )
            object.__setattr__(self, "gpu_type", gpu)

    @property
    def accelerator(self) -> GPUType | None:
        """``gpu_type`` as the member it was parsed to."""
        return GPUType.parse(self.gpu_type) if self.gpu_type is not None else None

    def requests(self) -> dict[str, str]:
        amounts = {"cpu": str(self.cpu), "memory": self.memory}
        if self.ephemeral_storage:
            amounts["ephemeral-storage"] = self.ephemeral_storage
        return amounts

    def limits(self) -> dict[str, str]:
        amounts = {"memory": self.memory}
        if self.ephemeral_storage:
            amounts["ephemeral-storage"] = self.ephemeral_storage
        if self.gpu_count:
            amounts[GPU_RESOURCE] = str(self.gpu_count)
        return amounts

    def to_dict(self) -> dict[str, Any]:
        gpu = self.accelerator
        return {
            "cpu": self.cpu,
            "memory": self.memory,
            "gpu_count": self.gpu_count,
            "gpu_type": gpu.name if gpu is not None else None,
            "ephemeral_storage": self.ephemeral_storage,
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> ResourceRequest:
        """From a run spec's ``"resources"`` mapping (its keys are this class's fields)."""
        if not isinstance(spec, Mapping):
            raise InvalidArgumentError(
                f"resources must be a mapping of {', '.join(f.name for f in fields(cls))}, got {type(spec).__name__}.",
                {"field": "resources"},
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in spec if k not in known)
        if unknown:
            raise InvalidArgumentError(
                f"Unknown resource field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.",
                {"field": "resources", "unknown": unknown},
            )
        return cls(**{str(k): v for k, v in spec.items()})
