"""An import-linter contract type for *submodules* of external packages.

import-linter's ``forbidden`` contract can only forbid a whole external package (``PySide6``),
because grimp squashes external packages to their top level. The services layer may use
``PySide6.QtCore`` but not ``PySide6.QtWidgets``, so this contract reads grimp's import details
(the import line itself) to tell the two apart.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class ForbiddenExternalSubmoduleContract(Contract):
    """``source_modules`` (and their descendants) must not import any of ``forbidden_modules``,
    dotted names inside an external package such as ``PySide6.QtWidgets``."""

    source_modules = fields.ListField(subfield=fields.StringField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        violations = []
        for source in self.source_modules:
            importers = {source} | graph.find_descendants(source)
            for importer in sorted(importers):
                for forbidden in self.forbidden_modules:
                    top = forbidden.split(".")[0]
                    if top not in graph.find_modules_directly_imported_by(importer):
                        continue
                    for detail in graph.get_import_details(importer=importer, imported=top):
                        line = detail["line_contents"]
                        if _imports(line, forbidden):
                            violations.append(f"{importer}:{detail['line_number']}: {line}")
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(violation)


def _imports(line: str, module: str) -> bool:
    words = line.replace(",", " ").split()
    if not words:
        return False
    if words[0] == "import":
        return any(w == module or w.startswith(module + ".") for w in words[1:])
    if words[0] == "from" and len(words) > 1:
        origin = words[1]
        if origin == module or origin.startswith(module + "."):
            return True
        parent, _, leaf = module.rpartition(".")
        return origin == parent and leaf in words[3:]
    return False


class OnlyTheseModulesContract(Contract):
    """``source_modules`` may import from ``package`` only the modules in ``allowed_modules`` (and
    their submodules). The window may share the core's *types* — results, errors, progress, names —
    but must reach its *work* through the services layer, on a worker thread."""

    source_modules = fields.ListField(subfield=fields.StringField())
    package = fields.StringField()
    allowed_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        allowed = [str(m) for m in self.allowed_modules]
        package = str(self.package)
        violations = []
        for source in self.source_modules:
            for importer in sorted({source} | graph.find_descendants(source)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if not (imported == package or imported.startswith(package + ".")):
                        continue
                    if any(imported == a or imported.startswith(a + ".") for a in allowed):
                        continue
                    for detail in graph.get_import_details(importer=importer, imported=imported):
                        violations.append(f"{importer}:{detail['line_number']}: {detail['line_contents']}")
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(violation)
