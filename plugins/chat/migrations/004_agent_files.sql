-- Files an agent attached to a reply on a chat ticket (kept by ticketing as the reply's attachments): which
-- conversation may fetch each (GET /api/v1/chat/files/{attachment_id}: that conversation's visitor only).
CREATE TABLE chat_files (
  attachment_id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES chat_conversations(id),
  ticket_message_id INTEGER NOT NULL,
  filename TEXT NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX chat_files_conversation ON chat_files(conversation_id);
