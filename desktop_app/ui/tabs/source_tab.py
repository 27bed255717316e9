"""The Source tab: the OLTP source's tables with row counts, the selected table's columns and keys,
and a lazy preview (sorting and filtering done by the database). Buttons re-create the demo shop
and simulate shop activity. Every query runs in a job; the widgets only show results."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.services.jobs import ErrorInfo
from desktop_app.services.studio import Studio
from desktop_app.ui.models.lazy_table_model import LazyTableModel
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.oltp.inspect import SourceInfo, TableInfo
    from desktop_app.core.oltp.rows import RowSource


def open_rows(location: str, table: str, contains: str | None, *, order_by=None, descending=False) -> RowSource:
    """Runs on the preview lane: a RowSource that owns its own source engine."""
    from desktop_app.core.oltp.rows import RowSource
    from desktop_app.core.oltp.source import open_source

    source = open_source(location)
    try:
        return RowSource(source, table, order_by=order_by, descending=descending, contains=contains or None,
                         owns_source=True)
    except BaseException:
        source.close()
        raise


class SourceTab(QWidget):
    errorOccurred = Signal(object)  # noqa: N815
    infoLoaded = Signal(object)  # noqa: N815 - SourceInfo, for the ingestion tab's table list

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.info: SourceInfo | None = None
        self.heading = QLabel("No source yet.")
        self.message = MessageBar()
        self.scale = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=5.0, singleStep=0.01, value=0.02)
        self.scale.setToolTip("Demo shop size: 1 ≈ 1,000,000 order items")
        self.recreate = QPushButton("Re-create demo data")
        self.recreate.setToolTip("Replace the workspace's demo shop with a new one of this scale")
        self.simulate_button = QPushButton("Simulate activity")
        self.simulate_button.setToolTip("Place orders, move orders along, change prices, delete a few rows")
        self.recreate.clicked.connect(self._on_recreate_clicked)
        self.simulate_button.clicked.connect(self._on_simulate_clicked)
        tools = QHBoxLayout()
        tools.addWidget(self.heading, 1)
        tools.addWidget(QLabel("Scale"))
        tools.addWidget(self.scale)
        tools.addWidget(self.recreate)
        tools.addWidget(self.simulate_button)
        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(["Table", "Rows"])
        self.tables.setRootIsDecorated(False)
        self.tables.setToolTip("Tables of the OLTP source; select one to see its schema and rows")
        self.tables.currentItemChanged.connect(self._on_tables_current_changed)
        self.columns = QTreeWidget()
        self.columns.setHeaderLabels(["Column", "Type", "Nullable", "Default", "Key"])
        self.columns.setRootIsDecorated(False)
        self.model = LazyTableModel(studio.runner, self)
        self.model.errorOccurred.connect(lambda info: self.message.show_error(info.error))
        self.preview = QTableView()
        self.preview.setModel(self.model)
        self.preview.setSortingEnabled(True)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.horizontalHeader().setSortIndicatorShown(True)
        self.preview_label = QLabel()
        self.model.statusChanged.connect(self.preview_label.setText)
        self.filter = QLineEdit(placeholderText="Filter: rows containing…")
        self.filter.setToolTip("Searched by the database in every column (LIKE), not in memory")
        self._filter_timer = QTimer(self, singleShot=True, interval=350)
        self._filter_timer.timeout.connect(self._open_preview)
        self.filter.textChanged.connect(lambda _text: self._filter_timer.start())
        detail = QTabWidget()
        detail.addTab(self.columns, "Schema")
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        row = QHBoxLayout()
        row.addWidget(self.filter)
        row.addWidget(self.preview_label)
        preview_layout.addLayout(row)
        preview_layout.addWidget(self.preview)
        detail.addTab(preview_box, "Preview")
        self.detail = detail
        self.splitter = QSplitter()
        self.splitter.addWidget(self.tables)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)  # the tables get the height, not the one-line heading
        studio.sourceChanged.connect(lambda _loc: self.refresh())

    @property
    def location(self) -> str:
        return self.studio.source

    def refresh(self):
        self.heading.setText(f"Loading {self.location} …")
        self.message.show_message("")
        job = self.studio.inspect()
        job.on_success(self._show_info).on_failure(self._on_job_failed)
        return job

    def _show_info(self, info: SourceInfo) -> None:
        self.info = info
        self.heading.setText(f"<b>{info.label}</b> ({info.dialect}) — {len(info.tables)} tables")
        self.tables.clear()
        for table in info.tables:
            item = QTreeWidgetItem([table.name, f"{table.row_count:,}"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            item.setData(0, Qt.ItemDataRole.UserRole, table.name)
            self.tables.addTopLevelItem(item)
        self.tables.resizeColumnToContents(0)
        if info.tables:
            self.tables.setCurrentItem(self.tables.topLevelItem(0))
        self.infoLoaded.emit(info)

    def _on_tables_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is None or self.info is None:
            return
        self._show_columns(self.info.table(current.data(0, Qt.ItemDataRole.UserRole)))
        self._open_preview()

    def _open_preview(self) -> None:
        item = self.tables.currentItem()
        if item is None:
            return
        table = item.data(0, Qt.ItemDataRole.UserRole)
        self.model.open(partial(open_rows, self.location, table, self.filter.text().strip()))

    def _show_columns(self, table: TableInfo) -> None:
        self.columns.clear()
        fk_of = {c: f"→ {fk.referred_table}.{fk.referred_columns[i]}"
                 for fk in table.foreign_keys for i, c in enumerate(fk.columns)}
        for col in table.columns:
            key = " ".join(filter(None, ["PK" if col.primary_key else "", fk_of.get(col.name, "")]))
            self.columns.addTopLevelItem(QTreeWidgetItem(
                [col.name, col.declared_type or "(no type)", "yes" if col.nullable else "no", col.default or "", key]))
        for i in range(5):
            self.columns.resizeColumnToContents(i)

    def _on_recreate_clicked(self) -> None:
        self.message.show_message(f"Creating a demo shop at scale {self.scale.value()} …")
        job = self.studio.create_demo_shop(self.scale.value())
        job.on_success(lambda r: (self.message.show_message(
            f"Demo shop created: {r.total_rows:,} rows in {r.seconds:.1f} s", "ok"),
            self.studio.set_source(str(r.path)))).on_failure(self._on_job_failed)

    def _on_simulate_clicked(self) -> None:
        job = self.studio.simulate()
        job.on_success(lambda r: (self.message.show_message(
            f"Simulated: {sum(r.inserted.values()):,} inserts, {sum(r.updated.values()):,} updates, "
            f"{sum(r.deleted.values()):,} deletes (clock {r.clock_end})", "ok"), self.refresh()))
        job.on_failure(self._on_job_failed)

    def _on_job_failed(self, info: ErrorInfo) -> None:
        self.heading.setText(f"<span style='color:#b00'>{info.error}</span>")
        self.message.show_error(info.error)
        self.errorOccurred.emit(info)
