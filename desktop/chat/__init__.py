"""The team chat: the original sample's ``message-added`` on ``private-chat``, and who is online.

``messages`` is the pure core (parsing, the 10 KB check, recognising our own echoes); ``sender`` sends
through the message endpoint or as client events; ``model``/``presence`` are the Qt models; ``panel`` is
the widget the window shows. ``wiring.attach_chat`` connects a panel to a running engine in one call.
Importing this package (or ``messages``) does not import Qt.
"""
