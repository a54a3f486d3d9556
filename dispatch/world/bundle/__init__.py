"""World bundles: the demo world or a user's own data as a folder of CSV files (format 1).

A bundle is `manifest.json` plus one CSV file per table (docs/world-format.md).
`export_world` writes a database's world to one; `read_bundle` validates a whole bundle
and reports every problem (file, row, field, reason); `import_world` loads a valid
bundle into an empty database. The zip variants serve uploads and downloads.
"""

from dispatch.world.bundle.archive import ArchiveLimits, UploadBuffer, pack_bundle, unpack_bundle
from dispatch.world.bundle.columns import (
    OPTIONAL_TABLES,
    ColumnSpec,
    Kind,
    TableSpec,
    bundle_tables,
)
from dispatch.world.bundle.errors import (
    BundleConflict,
    BundleError,
    BundleInvalid,
    BundleTooLarge,
    Problem,
)
from dispatch.world.bundle.manifest import FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE, Manifest
from dispatch.world.bundle.read import MAX_PROBLEMS, read_bundle
from dispatch.world.bundle.rules import EXPLICIT_RULES, Rule
from dispatch.world.bundle.service import (
    export_world,
    export_world_zip,
    import_world,
    import_world_zip,
)
from dispatch.world.bundle.write import write_bundle

__all__ = [
    "EXPLICIT_RULES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "MAX_PROBLEMS",
    "OPTIONAL_TABLES",
    "ArchiveLimits",
    "BundleConflict",
    "BundleError",
    "BundleInvalid",
    "BundleTooLarge",
    "ColumnSpec",
    "Kind",
    "Manifest",
    "Problem",
    "Rule",
    "TableSpec",
    "UploadBuffer",
    "bundle_tables",
    "export_world",
    "export_world_zip",
    "import_world",
    "import_world_zip",
    "pack_bundle",
    "read_bundle",
    "unpack_bundle",
    "write_bundle",
]
