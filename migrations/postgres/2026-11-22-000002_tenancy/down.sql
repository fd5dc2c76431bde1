DROP TABLE environments;
DROP TABLE invites;
DROP TABLE project_members;
DROP TABLE projects;
