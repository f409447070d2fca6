"""Signals other parts of the product listen to.

``calendar_changed`` is sent, after the transaction commits, whenever the admin changes the
working calendar in a way that can move a deadline: a holiday or make-up working day added,
edited or removed, or a year confirmed or unconfirmed. Arguments: ``sender`` (the model
class whose row changed) and ``years`` (a ``frozenset[int]`` of the calendar years
affected). Listeners recompute the open deadlines that reach those years (deadlines outside
them cannot have moved); they should enqueue that work rather than do it inline, since the
signal is sent from an admin request.
"""

from django.dispatch import Signal

calendar_changed = Signal()
