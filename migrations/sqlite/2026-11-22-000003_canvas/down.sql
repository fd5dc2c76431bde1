DROP TABLE resource_connections;
DROP TABLE resources;
DROP TABLE allowed_connections;
