-- Sending limits of one-time codes (issue 5): codes sent to one phone number or address are
-- counted per hour, whichever account asked (the account limit uses one_time_code_account).
CREATE INDEX one_time_code_destination ON one_time_code (destination, created_at);
