/**
 * The audit log's actor for changes made with the operator CLI. audit_log.actor_id is a uuid with
 * no foreign key, and every real actor is a telegram_user id (random v4 uuids), so the nil uuid
 * can never be mistaken for a person: the audit view finds no user for it (actor null), and the
 * entry reads as "done by the operator of the deployment", not by an admin of the tenant.
 */
export const OPERATOR_ACTOR_ID = '00000000-0000-0000-0000-000000000000';
