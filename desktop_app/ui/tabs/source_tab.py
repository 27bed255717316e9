"""The Source tab: the OLTP source's tables with row counts, the selected table's columns and keys,
and a lazy preview (sorting and filtering done by the database). Buttons re-create the demo shop
(at the scale shown, which is the current shop's own) and simulate shop activity; both show their
progress and leave their result on screen. Every query runs in a job; the widgets only show results.
"""

from __future__ import annotations

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

from desktop_app.services.jobs import ErrorInfo, Job, JobSlot
from desktop_app.services.studio import SourceView, Studio
from desktop_app.ui.error_dialog import present_error
from desktop_app.ui.models.lazy_table_model import LazyTableModel
from desktop_app.ui.widgets.elided_label import ElidedLabel
from desktop_app.ui.widgets.job_progress import JobProgress
from desktop_app.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    from desktop_app.core.oltp.inspect import TableInfo

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class SourceTab(QWidget):
    viewLoaded = Signal(object)  # SourceView, for the ingestion tab's table list

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.view: SourceView | None = None
        self.inspection = JobSlot(studio.runner, self)
        self.heading = ElidedLabel("No source yet.", mode=Qt.TextElideMode.ElideMiddle)
        self.message = MessageBar()
        self.scale = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=5.0, singleStep=0.01, value=0.02)
        self.scale.setToolTip("Demo shop size: 1 ≈ 1,000,000 order items (shows the current shop's scale)")
        self.recreate = QPushButton("Re-create demo data")
        self.recreate.setToolTip("Replace the workspace's demo shop with a new one of this scale")
        self.simulate_button = QPushButton("Simulate activity")
        self.simulate_button.setToolTip("Place orders, move orders along, change prices, delete a few rows")
        self.recreate.clicked.connect(self._on_recreate_clicked)
        self.simulate_button.clicked.connect(self._on_simulate_clicked)
        self.progress = JobProgress()
        tools = QHBoxLayout()
        tools.addWidget(self.heading, 1)
        tools.addWidget(QLabel("Scale"))
        tools.addWidget(self.scale)
        tools.addWidget(self.recreate)
        tools.addWidget(self.simulate_button)
        self._build_views()
        layout = QVBoxLayout(self)
        layout.addLayout(tools)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.splitter, 1)  # the tables get the height, not the one-line heading

    def _build_views(self) -> None:
        """The table list beside the selected table's schema and a filterable preview of its rows."""
        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(["Table", "Rows"])
        self.tables.setRootIsDecorated(False)
        self.tables.setToolTip("Tables of the OLTP source; select one to see its schema and rows")
        self.tables.currentItemChanged.connect(self._on_tables_current_changed)
        self.columns = QTreeWidget()
        self.columns.setHeaderLabels(["Column", "Type", "Nullable", "Default", "Key"])
        self.columns.setRootIsDecorated(False)
        self.model = LazyTableModel(self.studio.runner, self)
        self.model.errorOccurred.connect(lambda info: present_error(self, info, self.message))
        self.preview = QTableView()
        self.preview.setModel(self.model)
        self.preview.setSortingEnabled(True)
        self.preview.verticalHeader().setDefaultSectionSize(22)
        self.preview.horizontalHeader().setSortIndicatorShown(True)
        self.preview.horizontalHeader().setDefaultSectionSize(130)
        self.preview_label = QLabel()
        self.model.statusChanged.connect(self.preview_label.setText)
        self.filter = QLineEdit(placeholderText="Filter: rows containing…")
        self.filter.setToolTip("Searched by the database in every column (LIKE), not in memory")
        self.filter.setClearButtonEnabled(True)
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
        self.splitter.setSizes([260, 900])

    @property
    def location(self) -> str:
        return self.studio.source

    def refresh(self) -> Job:
        """Inspect the current source again (after opening it, or after changing it)."""
        self.heading.setText(f"Reading {self.studio.source_label} …")
        return self.inspection.start(self.studio.inspect(), on_success=self.show_view, on_failure=self._on_failed)

    def show_view(self, view: SourceView) -> None:
        self.view = view
        info = view.info
        self.heading.setText(f"{info.label} ({info.dialect}) — {len(info.tables)} tables")
        is_demo = self.location == str(self.studio.workspace.demo_shop)
        if view.demo_scale is not None and is_demo:
            self.scale.setValue(view.demo_scale)
        self.scale.setEnabled(is_demo)
        self.recreate.setEnabled(is_demo)
        current = self.tables.currentItem().text(0) if self.tables.currentItem() else None
        self.tables.clear()
        for table in info.tables:
            item = QTreeWidgetItem([table.name, f"{table.row_count:,}" if table.row_count is not None else ""])
            item.setTextAlignment(1, RIGHT)
            item.setData(0, Qt.ItemDataRole.UserRole, table.name)
            self.tables.addTopLevelItem(item)
            if table.name == current:
                self.tables.setCurrentItem(item)
        self.tables.resizeColumnToContents(0)
        if info.tables and self.tables.currentItem() is None:
            self.tables.setCurrentItem(self.tables.topLevelItem(0))
        self.viewLoaded.emit(view)

    def _on_tables_current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is None or self.view is None:
            return
        self._show_columns(self.view.info.table(current.data(0, Qt.ItemDataRole.UserRole)))
        self._open_preview()

    def _open_preview(self) -> None:
        item = self.tables.currentItem()
        if item is None:
            return
        table = item.data(0, Qt.ItemDataRole.UserRole)
        self.model.open(self.studio.preview_opener(table, self.filter.text().strip()))

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

    # -- the demo shop ------------------------------------------------------------------------------
    def _set_writing(self, busy: bool) -> None:
        for button in (self.recreate, self.simulate_button):
            button.setEnabled(not busy)

    def _on_recreate_clicked(self) -> Job:
        scale = self.scale.value()
        job = self.studio.create_demo_shop(scale)
        self._set_writing(True)
        self.message.clear()
        self.progress.track(job, f"Creating a demo shop at scale {scale:g}", finish_text=lambda r: (
            f"Demo shop created: {r.total_rows:,} rows at scale {r.scale:g}", "ok"))
        job.on_success(lambda r: self.studio.set_source(str(r.path)))
        job.on_failure(lambda info: present_error(self, info, self.message))
        job.on_finished(lambda: self._set_writing(False))
        return job

    def _on_simulate_clicked(self) -> Job:
        return self.simulate()

    def simulate(self, orders: int = 200, updates: int = 400, deletes: int = 20) -> Job:
        job = self.studio.simulate(orders, updates, deletes)
        self._set_writing(True)
        self.message.clear()
        self.progress.track(job, "Simulating shop activity", finish_text=lambda r: (
            f"Simulated: {sum(r.inserted.values()):,} inserts, {sum(r.updated.values()):,} updates, "
            f"{sum(r.deleted.values()):,} deletes (shop clock now {r.clock_end})", "ok"))
        job.on_success(lambda _r: self.refresh())
        job.on_failure(lambda info: present_error(self, info, self.message))
        job.on_finished(lambda: self._set_writing(False))
        return job

    def _on_failed(self, info: ErrorInfo) -> None:
        self.heading.setText(f"{self.studio.source_label} — cannot be read")
        present_error(self, info, self.message)
