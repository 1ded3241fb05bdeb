DROP TABLE api_keys;
DROP TABLE apps;
DROP TABLE refresh_tokens;
