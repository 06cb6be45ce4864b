-- A thumbs-up on an AI answer resolves its live conversation, in the same statement that
-- stores the rating (so the two can never disagree).
CREATE TRIGGER messages_rating_resolves AFTER UPDATE OF rating ON messages
WHEN new.rating = 1 AND new.role = 'ai'
BEGIN
  UPDATE conversations SET outcome = 'resolved', outcome_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE id = new.conversation_id AND org_id = new.org_id AND outcome IS NULL;
END;
