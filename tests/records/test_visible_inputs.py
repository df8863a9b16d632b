"""Names and reasons entering the records: NFC-normalised, with visible letters; a zero-width
or control character is refused naming the field before anything is stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ketascreen.errors import RecordError, UserAccountError
from ketascreen.records import users
from ketascreen.records.repository import RecordStore
from ketascreen.screening import Screening
from tests.records.conftest import People
from tests.records.support import screening_of

Sign = Callable[[Screening], bytes]


@pytest.mark.parametrize(("name", "part"), [
    ("Dr Jane\u200b Smith", "U+200B ZERO WIDTH SPACE"),
    ("Dr Jane Smith\x1b[8m", "U+001B"),
    ("Dr \u202eJane Smith", "U+202E"),
    ("12345", "must contain letters"),
])
def test_display_name_must_be_visible_words(store: RecordStore, people: People, name: str,
                                            part: str) -> None:
    """A user's display name with an invisible character or no letter is refused naming the
    display name; no account is created."""
    with pytest.raises(UserAccountError) as caught:
        store.add_user(people.admin, username="drx", display_name=name, role="physician",
                       password="a long enough passphrase 1")
    assert caught.value.field == "display name"
    assert part in caught.value.reason
    assert "drx" not in {u.username for u in users.list_users(store, people.admin)}


def test_display_name_is_nfc(store: RecordStore, people: People) -> None:
    """A decomposed accent is stored precomposed (NFC): the name compares as it reads."""
    info = store.add_user(people.admin, username="drd", display_name="Dr Ame\u0301lie Durand",
                          role="physician", password="a long enough passphrase 1")
    assert info.display_name == "Dr Am\u00e9lie Durand"


def test_reasons_must_be_visible_words(store: RecordStore, people: People, sign: Sign) -> None:
    """An acknowledgement or amendment reason of zero-width spaces (looks typed, is blank) or
    with a control character is refused, naming the reason."""
    screening = screening_of(base="example-unacknowledged")
    draft = store.create(people.physician, screening)
    concept = next(f.concept for f in screening.result.findings if f.severity == "relative")
    with pytest.raises(RecordError, match="acknowledgement reason contains U\\+200B"):
        store.acknowledge(people.physician, draft.record_id, concept=concept,
                          reason="\u200b\u200b\u200b")
    first = screening_of()
    signed = store.sign(people.physician, store.create(people.physician, first).record_id,
                        sign(first))
    second = screening_of({"measurements.weight": "190 lb"})
    with pytest.raises(RecordError, match="amendment reason contains U\\+0007"):
        store.amend(people.physician, signed.record_id, second, signed_pdf=sign(second),
                    reason="weight\x07 re-measured")
    with pytest.raises(RecordError, match="amendment reason must contain letters"):
        store.amend(people.physician, signed.record_id, second, signed_pdf=sign(second),
                    reason="...")
