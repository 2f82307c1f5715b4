-- A reply on a ticket whose channel has a sender of its own (chat, WhatsApp: a module publishing
-- "<module>.channel_send") goes out through that module, not by mail: sent_via names the module that took it, and
-- the mail subscriber leaves such a reply alone (channels.c).
ALTER TABLE tkt_messages ADD COLUMN sent_via TEXT;
