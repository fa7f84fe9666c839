-- A night's runs by night: the night's progress is counted while it runs and its runs are read
-- when it ends; without this index each of those read the whole runs table, reports included
-- (night_id is stored after the report in each row).
CREATE INDEX runs_night ON runs (night_id, state);
