"""Named models of one galaxy ingredient, each with its reference and its typed parameters.

A :class:`Registry` holds the models of one ingredient (source density, H I, H2, H II, X_CO)
by name.  Each :class:`NamedModel` carries the paper it comes from, a pydantic parameter class
(defaults from the paper, bounds) and the function that evaluates it.  Unknown or out-of-range
parameters are refused with one line naming the key, the value and what is allowed::

    from galprop_py.galaxy import sources
    model = sources.SOURCES.get("lorimer2006")
    params = model.parse({"B": 1.7})             # Lorimer2006Parameters(B=1.7, C=5.0, ...)
    model(r, z, params)                          # relative source density

The package itself never imports :mod:`galprop_py.config`; the config validates its keys with
:meth:`Registry.get` and :meth:`NamedModel.parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError


class ModelParameters(BaseModel):
    """Base of every parameter class: unknown keys are errors, values are checked on
    assignment too, instances are immutable (they are shared by all evaluations)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParameters(ModelParameters):
    """For models without parameters."""


def allowed_range(field_info) -> str:
    """'0 < x <= 10'-style description of a pydantic field's bounds ('' if unbounded)."""
    lo = hi = ""
    for m in field_info.metadata:
        if isinstance(m, annotated_types.Gt):
            lo = f"{m.gt} < "
        elif isinstance(m, annotated_types.Ge):
            lo = f"{m.ge} <= "
        elif isinstance(m, annotated_types.Lt):
            hi = f" < {m.lt}"
        elif isinstance(m, annotated_types.Le):
            hi = f" <= {m.le}"
    return f"{lo}value{hi}" if (lo or hi) else ""


@dataclass(frozen=True)
class NamedModel:
    """One model of an ingredient.

    ``function(r, z, params, **context)`` evaluates it at galactocentric cylindrical radius
    ``r`` and height ``z`` [kpc] (broadcast together).  ``context`` names the keyword arguments
    it needs besides: ``x``, ``y`` [kpc] (3D tables), ``z_edges`` (the grid's z cell edges),
    ``coords`` (the grid coordinates), ``x_co`` (an X_CO(r) law); the caller passes what it
    has and each model receives only what it names."""

    name: str
    ingredient: str
    reference: str
    summary: str
    parameters: type[ModelParameters]
    function: Callable[..., Any]
    context: tuple[str, ...] = ()

    def parse(
        self, values: Mapping[str, Any] | ModelParameters | None = None, key: str = "parameters"
    ) -> ModelParameters:
        """Validated parameters (defaults filled in).  Raises ValueError with one line
        ``<key>.<name> = <value>: <what is wrong> for <model>; allowed: ...``."""
        if isinstance(values, self.parameters):
            return values
        values = dict(values or {})
        try:
            return self.parameters.model_validate(values)
        except ValidationError as err:
            raise ValueError(self._message(err, values, key)) from None

    def _message(self, err: ValidationError, values: dict, key: str) -> str:
        first = err.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        name = f"{key}.{loc}" if loc else key
        value = values.get(first["loc"][0], first.get("input")) if first["loc"] else values
        where = f"{self.ingredient} model {self.name!r}"
        if first["type"] == "extra_forbidden":
            names = ", ".join(self.parameters.model_fields) or "none"
            return f"{name} = {value!r}: unknown parameter of {where}; allowed: {names}"
        if first["type"] == "missing":
            return f"{name}: required parameter of {where} is missing"
        info = self.parameters.model_fields.get(str(first["loc"][0])) if first["loc"] else None
        bounds = allowed_range(info).replace("value", loc) if info is not None else ""
        allowed = f"; allowed: {bounds}" if bounds else ""
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "literal_error":
            allowed, msg = "", "allowed: " + first["ctx"]["expected"]
        return f"{name} = {value!r}: {msg} ({where}){allowed}"

    def __call__(self, r, z, params: Mapping[str, Any] | ModelParameters | None = None, **context):
        """Evaluate at (r, z) [kpc]; ``context`` may hold more than this model needs."""
        p = self.parse(params)
        return self.function(r, z, p, **{k: context.get(k) for k in self.context})

    def describe(self) -> str:
        """One line: name, reference, parameters with their defaults."""
        fields = self.parameters.model_fields
        pars = ", ".join(
            f"{k}=(required)" if v.is_required() else f"{k}={v.default!r}"
            for k, v in fields.items()
        )
        return f"{self.name}: {self.summary} [{self.reference}] ({pars or '-'})"


@dataclass
class Registry:
    """The named models of one ingredient."""

    ingredient: str
    models: dict[str, NamedModel] = field(default_factory=dict)

    def register(
        self,
        name: str,
        reference: str,
        parameters: type[ModelParameters] = NoParameters,
        summary: str = "",
        context: tuple[str, ...] = (),
    ):
        """Decorator: register ``function(r, z, params)`` under ``name``."""

        def wrap(function):
            if name in self.models:
                raise ValueError(f"{self.ingredient} model {name!r} registered twice")
            doc = (function.__doc__ or "").strip().splitlines()
            self.models[name] = NamedModel(
                name,
                self.ingredient,
                reference,
                summary or (doc[0] if doc else name),
                parameters,
                function,
                context,
            )
            return function

        return wrap

    def names(self) -> tuple[str, ...]:
        return tuple(self.models)

    def get(self, name: str) -> NamedModel:
        try:
            return self.models[name]
        except KeyError:
            allowed = ", ".join(repr(n) for n in self.models)
            raise ValueError(
                f"unknown {self.ingredient} model {name!r}; allowed: {allowed}"
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self.models

    def table(self) -> str:
        """One line per model (for documentation and ``galprop-py`` help)."""
        return "\n".join(m.describe() for m in self.models.values())
