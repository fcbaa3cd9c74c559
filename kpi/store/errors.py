"""What the store refuses or cannot do. Each message names the workspace, dataset and version concerned,
never a token or data."""

from __future__ import annotations

from typing import Literal

from kpi.schema import Problem


class StoreError(Exception):
    """Anything the store refuses or cannot do; the message says what and what to do about it."""


class WorkspaceNotFound(StoreError):
    pass


class WorkspaceExists(StoreError):
    pass


class VersionNotFound(StoreError):
    pass


class CorruptVersion(StoreError):
    """A dataset version's file is missing, torn or altered; it is never served."""


class InvalidDataset(StoreError):
    """A frame failed `kpi.schema.validate`; `problems` lists every error. Nothing was saved."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


class DamagedDocument(StoreError):
    """A stored document's body cannot be read back as JSON; it is never replaced by an empty one."""


class SaveConflict(StoreError):
    """An append could not be applied because other writers kept saving the same dataset."""


class UnsafeViewState(StoreError):
    """A saved view's state holds something that looks like a credential or raw data."""


class PersonalData(UnsafeViewState):
    """A view's filter value looks like personal data (an e-mail address or a phone number): a link must
    not pin a person. `path` names the filter ('owner[0]'), `kind` is "email" or "phone"; never the value."""

    def __init__(self, path: str, kind: Literal["email", "phone"]) -> None:
        what = "an e-mail address" if kind == "email" else "a phone number"
        super().__init__(f"view state '{path}' looks like {what}: links must not pin personal data; "
                         "remove that filter and share again")
        self.path = path
        self.kind = kind


class ViewError(StoreError):
    """A share link cannot be opened; the message is fit to show to whoever opened it."""


class ViewNotFound(ViewError):
    pass


class ViewRevoked(ViewError):
    pass


class ViewExpired(ViewError):
    pass
