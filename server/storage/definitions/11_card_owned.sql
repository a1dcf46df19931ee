-- The user's card `p_card_id`, or CS404 naming the request field `p_field` when
-- no such card belongs to the user. Called under the user's lock.
CREATE OR REPLACE FUNCTION card_owned(p_user_id text, p_card_id uuid, p_field text)
  RETURNS cards
  LANGUAGE plpgsql AS $$
DECLARE
  v_card cards%ROWTYPE;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card_id AND user_id = p_user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'CS404',
      MESSAGE = p_field || ': no such card for this user';
  END IF;
  RETURN v_card;
END $$;
