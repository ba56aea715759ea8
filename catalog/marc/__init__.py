"""MARC in and out of the union catalogue (联合目录): reading vendor files and mapping fields.

The reader and the field map re-exported here are pure functions: they touch
no database and know nothing of the web application, so an import can be
tried, tested or run from the command line on a file alone.
"""

from catalog.marc.mapping import (
    FieldMap,
    Holding,
    NormalisedRecord,
    load_field_map,
    normalise,
    to_utf8_iso2709,
)
from catalog.marc.reader import MarcReadResult, detect_file, read_marc

__all__ = [
    "FieldMap",
    "Holding",
    "MarcReadResult",
    "NormalisedRecord",
    "detect_file",
    "load_field_map",
    "normalise",
    "read_marc",
    "to_utf8_iso2709",
]
