"""Messages to people and departments: an outbox written with each change, sent by a dispatcher."""
