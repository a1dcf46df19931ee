-- The etag check: CS410 naming `p_field` unless the caller sent no etag
-- (p_expected 0) or the card is still at the version the etag was read at.
CREATE OR REPLACE FUNCTION card_check_version(p_expected bigint, p_actual bigint, p_field text)
  RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF p_expected <> 0 AND p_expected <> p_actual THEN
    RAISE EXCEPTION USING ERRCODE = 'CS410',
      MESSAGE = p_field || ': the card has changed since this etag was read';
  END IF;
END $$;
