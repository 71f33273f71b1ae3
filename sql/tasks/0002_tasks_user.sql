-- Per-user counts of tasks, kept by triggers so every writer counts: a list answers its total
-- (all, done, or not done) without counting up to 100 000 index entries.
CREATE TABLE tasks_user (
    user_id INTEGER PRIMARY KEY,
    total   INTEGER NOT NULL CHECK (total >= 0),
    done    INTEGER NOT NULL CHECK (done >= 0 AND done <= total)
) STRICT;

INSERT INTO tasks_user (user_id, total, done)
SELECT user_id, count(*), sum(done) FROM tasks GROUP BY user_id;

CREATE TRIGGER tasks_user_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO tasks_user (user_id, total, done) VALUES (NEW.user_id, 1, NEW.done)
    ON CONFLICT (user_id) DO UPDATE SET total = total + 1, done = done + NEW.done;
END;

CREATE TRIGGER tasks_user_update AFTER UPDATE OF user_id, done ON tasks
BEGIN
    UPDATE tasks_user SET total = total - 1, done = done - OLD.done WHERE user_id = OLD.user_id;
    INSERT INTO tasks_user (user_id, total, done) VALUES (NEW.user_id, 1, NEW.done)
    ON CONFLICT (user_id) DO UPDATE SET total = total + 1, done = done + NEW.done;
END;

CREATE TRIGGER tasks_user_delete AFTER DELETE ON tasks
BEGIN
    UPDATE tasks_user SET total = total - 1, done = done - OLD.done WHERE user_id = OLD.user_id;
END;
