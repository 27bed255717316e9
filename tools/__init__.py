"""Developer tooling that is not part of the app (lint plug-ins)."""
