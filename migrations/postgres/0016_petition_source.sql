-- An imported item's source identity (channel + external number): a retried import finds
-- the item it registered before instead of registering it again (issue 13).
create index petition_source on petition(channel, external_no);
