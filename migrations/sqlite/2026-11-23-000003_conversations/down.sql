DROP TABLE messages_fts;
DROP TABLE events;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE devices;
DROP TABLE contacts;
