"""Open a database by URL: the parts in fields, the password masked and never stored.

A URL pasted into the *URL* field is split into the fields (its password into the masked one), so a
password is never shown in clear. A recent source is remembered without its password; reopening it
brings this dialog back with everything filled in but the password.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

DIALECTS = (("PostgreSQL", "postgresql+psycopg", 5432), ("MySQL / MariaDB", "mysql+pymysql", 3306))


class UrlDialog(QDialog):
    def __init__(self, parent=None, prefill: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a database")
        self.dialect = QComboBox()
        for label, driver, port in DIALECTS:
            self.dialect.addItem(label, (driver, port))
        self.dialect.addItem("Other (keep the URL's driver)", (None, 0))
        self.dialect.currentIndexChanged.connect(self._on_dialect_changed)
        self.host = QLineEdit("localhost")
        self.port = QSpinBox(minimum=0, maximum=65535, value=5432)
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setToolTip("Used for this session only; never stored or shown")
        self.database = QLineEdit()
        self.url = QLineEdit()
        self.url.setPlaceholderText("or paste a URL: postgresql+psycopg://user:password@host:5432/db")
        self.url.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        self.url.editingFinished.connect(self._on_url_pasted)
        self._driver_kept: str | None = None
        self._query: dict = {}
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #cf222e;")
        self.problem.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Database system", self.dialect)
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        form.addRow("Database", self.database)
        form.addRow("URL", self.url)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        if prefill:
            self.fill(prefill)

    def _on_dialect_changed(self) -> None:
        driver, port = self.dialect.currentData()
        if driver and self.port.value() in (0, *(p for _, _, p in DIALECTS)):
            self.port.setValue(port)

    def _on_url_pasted(self) -> None:
        text = self.url.text().strip()
        if text:
            self.fill(text)
            self.url.clear()

    def fill(self, text: str) -> None:
        """Split a URL into the fields (a redacted ``***`` password is left for the user to type)."""
        import sqlalchemy as sa  # here, not at start-up: the window must show fast

        try:
            url = sa.make_url(text)
        except (sa.exc.ArgumentError, ValueError):
            self.problem.setText("That is not a database URL (dialect+driver://user:password@host:port/database).")
            return
        self.problem.clear()
        backend = url.get_backend_name()
        index = next((i for i, (_, driver, _) in enumerate(DIALECTS) if driver.split("+")[0] == backend), 2)
        self.dialect.setCurrentIndex(index)
        self._driver_kept = url.drivername if index == 2 else None
        self.host.setText(url.host or "")
        self.port.setValue(url.port or self.dialect.currentData()[1] or 0)
        self.user.setText(url.username or "")
        self.password.setText("" if url.password in (None, "***") else str(url.password))
        self.database.setText(url.database or "")
        self._query = {k: v for k, v in url.query.items() if v != "***"}

    def location(self) -> str:
        """The URL to open, password included (for this session only)."""
        import sqlalchemy as sa

        driver = self._driver_kept or self.dialect.currentData()[0] or "postgresql+psycopg"
        url = sa.URL.create(driver, username=self.user.text() or None, password=self.password.text() or None,
                            host=self.host.text() or None, port=self.port.value() or None,
                            database=self.database.text() or None, query=self._query)
        return url.render_as_string(hide_password=False)

    def _on_accept(self) -> None:
        if not self.host.text().strip() or not self.database.text().strip():
            self.problem.setText("Give at least a host and a database.")
            return
        self.accept()
