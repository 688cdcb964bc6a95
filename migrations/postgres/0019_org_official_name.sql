-- The full official name a node signs documents with (发文机关署名, GB/T 9704-2012 §7.3.5),
-- e.g. 天津市南开区人民政府万兴街道办事处; NULL: its name (issue 13).
alter table org_node add column official_name text;
