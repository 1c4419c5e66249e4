"""Settings added after a format was in use, left out of a dump while at their default.

`scenario.json` (the scenario as run) is written with every field, so a new field would
change the file of every run that does not use it. A section that lists its newer
fields in `_quiet_defaults` writes them only when they are set to something else, so
existing runs keep their bytes and a run that uses a new setting records it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer


class QuietDefaults(BaseModel):
    """Mixin: fields named in `_quiet_defaults` are dumped only when not at their default."""

    _quiet_defaults: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _drop_quiet_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            fields = type(self).model_fields
            for name in self._quiet_defaults:
                if name in data and getattr(self, name) == fields[name].get_default(call_default_factory=True):
                    del data[name]
        return data
