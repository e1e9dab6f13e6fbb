-- Pages are read by paging receiver and receipt time (store.pageGroups). Most first notifications
-- go to receivers that do not page (chat, e-mail): through the time index, 90 days of every team
-- read every receiver's rows, 1.16 M index entries at year scale for 202,000 pages. Led by the
-- receiver, the index gives each paging receiver's own range. One team's pages still come from
-- receiver_episodes_team_received_at.
CREATE INDEX receiver_episodes_receiver_received_at ON receiver_episodes (receiver, received_at)
    INCLUDE (team, alertname, first_notification_id);
DROP INDEX receiver_episodes_received_at;
