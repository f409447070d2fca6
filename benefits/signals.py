"""Signals other parts of the product listen to.

``calendar_changed`` is sent, *inside* the transaction of the change, whenever the admin
changes the working calendar in a way that can move a deadline: a holiday or make-up working
day added, edited or removed, or a year confirmed or unconfirmed. Arguments: ``sender`` (the
model class whose row changed) and ``years`` (a ``frozenset[int]`` of the calendar years
affected). Listeners recompute the open deadlines that reach those years (deadlines outside
them cannot have moved); they queue that work through ``portal.kernel.outbox`` rather than
do it inline (the signal is sent from an admin request), so it commits with the change and
a worker sees the new calendar. A listener's error fails the change.

``person_phone_changed`` is sent *inside* the transaction that changes a person's phone
(staff API, policy import, admin), after the person is saved and the ``PhoneChange`` row is
written, so a listener's writes commit or roll back with the change. Arguments: ``sender``
(``Person``), ``person``, ``old_phone`` and ``new_phone`` (as stored: the new one
normalised, the old one possibly in an insurer's spelling; either may be empty), ``actor``
(``benefits.quota.ledger.Actor``) and ``change`` (the ``PhoneChange``). The portal ends the
bindings the old phone made and texts both numbers (on commit). Listeners must never log
either number unmasked.
"""

from django.dispatch import Signal

calendar_changed = Signal()
person_phone_changed = Signal()
