/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "astra-dbus-generated.h"
#include "astra-dbus-service.h"
#include "astra-webhook.h"

/* bounds on what callers may send: names are short, texts are not essays */
#define ASTRA_DBUS_MAX_NAME 256
#define ASTRA_DBUS_MAX_TEXT 4096
#define ASTRA_DBUS_MAX_LABELS 64
#define ASTRA_DBUS_MAX_MATCHERS 64
#define ASTRA_DBUS_DEFAULT_LIMIT 50
#define ASTRA_DBUS_MAX_LIMIT 1000
/* error messages carry what plugins and receivers said: bounded */
#define ASTRA_DBUS_MAX_ERROR 4096
/* but a refused reload lists every problem */
#define ASTRA_DBUS_MAX_RELOAD_ERROR (64 * 1024)
#define ASTRA_DBUS_MAX_REASON 512
/* how long the bus may take to say who is calling */
#define ASTRA_DBUS_CALLER_TIMEOUT_MS 10000

struct _AstraDbusService {
	GObject parent_instance;
	AstraEngine *engine;
	AstraDBusAlerts1 *skeleton;
	GHashTable *last_attempts; /* webhook name -> AstraDbusLastAttempt, for ListWebhooks */
	GHashTable *subscribers;   /* unique bus name -> the id watching it; "" for a peer */
	guint update_id;
	gboolean exported;
};

G_DEFINE_FINAL_TYPE (AstraDbusService, astra_dbus_service, G_TYPE_OBJECT)

typedef struct {
	guint status;
	char *error; /* the reason of the last attempt that was not delivered, "" after a delivery */
} AstraDbusLastAttempt;

static void
astra_dbus_last_attempt_free (AstraDbusLastAttempt *last)
{
	g_free (last->error);
	g_free (last);
}

/* uid G_MAXUINT32: a read-only method, nobody asked */
typedef void (*AstraDbusMethodFunc) (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid);

/* helpers */

static void
astra_dbus_add (GVariantBuilder *builder, const char *key, GVariant *value)
{
	g_variant_builder_add (builder, "{sv}", key, value);
}

static GVariant *
astra_dbus_string (const char *value)
{
	return g_variant_new_string (value != NULL ? value : "");
}

/* every error leaves as ASTRA_ERROR, registered as org.astranetmon.Alerts1.Error.*, and bounded */
static void
astra_dbus_return_error_full (GDBusMethodInvocation *invocation, const GError *error, gsize max)
{
	g_autofree char *message = astra_engine_excerpt (error->message, -1, max);
	int code = error->domain == ASTRA_ERROR ? error->code : ASTRA_ERROR_FAILED;

	g_dbus_method_invocation_return_error_literal (invocation, ASTRA_ERROR, code, message);
}

static void
astra_dbus_return_error (GDBusMethodInvocation *invocation, const GError *error)
{
	astra_dbus_return_error_full (invocation, error, ASTRA_DBUS_MAX_ERROR);
}

static void astra_dbus_return_new_error (GDBusMethodInvocation *invocation, int code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
astra_dbus_return_new_error (GDBusMethodInvocation *invocation, int code, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list args;

	va_start (args, format);
	error = g_error_new_valist (ASTRA_ERROR, code, format, args);
	va_end (args);
	astra_dbus_return_error (invocation, error);
}

/* a caller's string: NUL-free and valid UTF-8 by D-Bus already; only its length is ours to bound */
static gboolean
astra_dbus_check_length (GDBusMethodInvocation *invocation, const char *what, const char *value, gsize max)
{
	if (strlen (value) <= max)
		return TRUE;
	astra_dbus_return_new_error (invocation, ASTRA_ERROR_TOO_LARGE,
				     "%s: longer than %" G_GSIZE_FORMAT " bytes", what, max);
	return FALSE;
}

/* RFC 3339 as events carry it, to microseconds; 0 if it is not one */
static gint64
astra_dbus_parse_time (const char *text)
{
	g_autoptr(GDateTime) dt = NULL;

	if (text == NULL)
		return 0;
	dt = g_date_time_new_from_iso8601 (text, NULL);
	if (dt == NULL)
		return 0;
	return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

static GVariant *
astra_dbus_strv (const char *const *strv)
{
	return g_variant_new_strv (strv != NULL ? strv : (const char *const[]){ NULL }, -1);
}

/* the caller's user name, for a silence's author */
static char *
astra_dbus_user_name (guint32 uid)
{
	struct passwd pw;
	struct passwd *result = NULL;
	char buf[4096];

	if (getpwuid_r ((uid_t) uid, &pw, buf, sizeof (buf), &result) == 0 && result != NULL)
		return g_strdup (pw.pw_name);
	return g_strdup_printf ("uid %u", uid);
}

/* properties */

static void
astra_dbus_service_update_properties (AstraDbusService *self)
{
	AstraRuleEngine *rule_engine = astra_engine_get_rule_engine (self->engine);
	AstraAgentRegistry *agents = astra_engine_get_agents (self->engine);
	AstraDBusAlerts1 *iface = self->skeleton;

	/* the skeleton sends PropertiesChanged only for values that did change, once per iteration */
	astra_dbus_alerts1_set_config_generation (iface, astra_engine_get_generation (self->engine));
	astra_dbus_alerts1_set_webhook_count (
	    iface, astra_router_get_webhooks (astra_engine_get_router (self->engine))->len);
	if (rule_engine != NULL) {
		astra_dbus_alerts1_set_rule_count (
		    iface, astra_rule_set_get_rules (astra_rule_engine_get_rules (rule_engine))->len);
		astra_dbus_alerts1_set_firing_alert_count (iface,
							   astra_rule_engine_get_n_firing (rule_engine));
	}
	if (agents != NULL)
		astra_dbus_alerts1_set_agent_count (iface, astra_agent_registry_get_size (agents));
}

/* counts settle once the event that changed them is handled: read them after, once per iteration */
static gboolean
astra_dbus_service_update_cb (gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);

	self->update_id = 0;
	astra_dbus_service_update_properties (self);
	return G_SOURCE_REMOVE;
}

static void
astra_dbus_service_queue_update (AstraDbusService *self)
{
	if (self->update_id == 0)
		self->update_id = g_idle_add (astra_dbus_service_update_cb, self);
}

/* a reason a plugin or a receiver gave, for the bus: bounded (the dispatcher blanked out the
 * webhook's credentials before it was logged or stored) */
static char *
astra_dbus_reason (const char *text)
{
	return astra_engine_excerpt (text, -1, ASTRA_DBUS_MAX_REASON);
}

/* why an attempt failed, for people: the plugin's reason, else what the answer was; no credential */
static char *
astra_dbus_attempt_reason (AstraDbusService *self, const char *webhook, const AstraAttempt *attempt)
{
	if (attempt->reason != NULL && attempt->reason[0] != '\0')
		return astra_dbus_reason (attempt->reason);
	if (attempt->status > 0)
		return g_strdup_printf ("HTTP %u", attempt->status);
	return g_strdup (astra_outcome_to_string (attempt->outcome));
}

/* read-only methods */

static void
astra_dbus_service_get_status (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	AstraConfig *config = astra_engine_get_config (self->engine);
	AstraRuleEngine *rule_engine = astra_engine_get_rule_engine (self->engine);
	AstraAgentRegistry *agents = astra_engine_get_agents (self->engine);
	AstraDeliverer *deliverer = astra_engine_get_deliverer (self->engine);
	AstraSilences *silences = astra_engine_get_silences (self->engine);
	GInetSocketAddress *address = astra_engine_get_http_address (self->engine);
	g_autoptr(GPtrArray) agent_list = astra_agent_registry_list (agents);
	g_autoptr(GPtrArray) alerts = astra_rule_engine_list_alerts (rule_engine);
	g_autoptr(GPtrArray) statuses = astra_deliverer_get_status (deliverer);
	g_autofree char *listen = NULL;
	GVariantBuilder builder;
	guint n_offline = 0;
	guint n_pending_alerts = 0;
	guint n_pending = 0;

	for (guint i = 0; i < agent_list->len; i++) {
		const AstraAgentInfo *info = g_ptr_array_index (agent_list, i);
		n_offline += info->online ? 0 : 1;
	}
	for (guint i = 0; i < alerts->len; i++) {
		const AstraAlertInfo *info = g_ptr_array_index (alerts, i);
		n_pending_alerts += info->state == ASTRA_ALERT_STATE_PENDING ? 1 : 0;
	}
	for (guint i = 0; i < statuses->len; i++) {
		const AstraWebhookStatus *st = g_ptr_array_index (statuses, i);
		n_pending += st->pending;
	}
	listen =
	    address != NULL ? g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address)) : g_strdup ("");

	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (&builder, "version", g_variant_new_string (PACKAGE_VERSION));
	astra_dbus_add (&builder, "started_at",
			g_variant_new_int64 (astra_engine_get_started_at (self->engine)));
	astra_dbus_add (&builder, "config_path", astra_dbus_string (astra_config_get_path (config)));
	astra_dbus_add (&builder, "config_generation",
			g_variant_new_uint32 (astra_engine_get_generation (self->engine)));
	astra_dbus_add (&builder, "listen", astra_dbus_string (listen));
	astra_dbus_add (&builder, "state_dir", astra_dbus_string (astra_config_get_state_dir (config)));
	astra_dbus_add (
	    &builder, "rules",
	    g_variant_new_uint32 (astra_rule_set_get_rules (astra_rule_engine_get_rules (rule_engine))->len));
	astra_dbus_add (
	    &builder, "webhooks",
	    g_variant_new_uint32 (astra_router_get_webhooks (astra_engine_get_router (self->engine))->len));
	astra_dbus_add (&builder, "agents", g_variant_new_uint32 (agent_list->len));
	astra_dbus_add (&builder, "agents_offline", g_variant_new_uint32 (n_offline));
	astra_dbus_add (&builder, "alerts_firing",
			g_variant_new_uint32 (astra_rule_engine_get_n_firing (rule_engine)));
	astra_dbus_add (&builder, "alerts_pending", g_variant_new_uint32 (n_pending_alerts));
	astra_dbus_add (&builder, "silences", g_variant_new_uint32 (astra_silences_get_n_active (silences)));
	astra_dbus_add (&builder, "deliveries_pending", g_variant_new_uint32 (n_pending));
	astra_dbus_add (&builder, "deliveries_dead",
			g_variant_new_uint32 (astra_outbox_count (astra_engine_get_outbox (self->engine),
								  NULL, ASTRA_DELIVERY_STATE_DEAD, NULL)));
	astra_dbus_add (&builder, "in_flight",
			g_variant_new_uint32 (astra_deliverer_get_n_in_flight (deliverer)));
	astra_dbus_add (&builder, "subscribers", g_variant_new_uint32 (g_hash_table_size (self->subscribers)));
	astra_dbus_alerts1_complete_get_status (self->skeleton, invocation, g_variant_builder_end (&builder));
}

/* the built-in plugins say what they are for; a third-party module has only its name */
static const char *
astra_dbus_plugin_description (const char *name)
{
	static const struct {
		const char *name;
		const char *description;
	} builtins[] = {
		{ "generic", "the event as is, as JSON, signed: for any HTTP receiver" },
		{ "slack", "Slack incoming webhooks: Block Kit message with a colour bar" },
		{ "discord", "Discord webhooks: an embed per event" },
		{ "teams",
		  "Microsoft Teams: Adaptive Card for Workflows webhooks, or the legacy MessageCard" },
		{ "pagerduty", "PagerDuty Events API v2: trigger and resolve with a stable dedup_key" },
	};
	for (guint i = 0; i < G_N_ELEMENTS (builtins); i++) {
		if (g_strcmp0 (builtins[i].name, name) == 0)
			return builtins[i].description;
	}
	return "";
}

static void
astra_dbus_service_list_plugins (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	GPtrArray *modules = astra_plugin_loader_get_modules (astra_engine_get_loader (self->engine));
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < modules->len; i++) {
		const AstraPluginModule *module = g_ptr_array_index (modules, i);
		g_autofree char *error = astra_engine_excerpt (module->error, -1, ASTRA_DBUS_MAX_REASON);
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "name", astra_dbus_string (module->name));
		astra_dbus_add (&item, "file", astra_dbus_string (module->path));
		astra_dbus_add (&item, "abi", g_variant_new_uint32 (module->abi_version));
		astra_dbus_add (&item, "state",
				g_variant_new_string (astra_plugin_state_to_string (module->state)));
		astra_dbus_add (&item, "error", g_variant_new_string (error));
		astra_dbus_add (&item, "description",
				g_variant_new_string (astra_dbus_plugin_description (module->name)));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_plugins (self->skeleton, invocation,
						  g_variant_builder_end (&builder));
}

/* what the last attempt of a webhook came to: seen by this process, else the newest row of its history */
static void
astra_dbus_service_last_attempt (AstraDbusService *self, AstraWebhook *webhook, guint *status, char **error)
{
	const char *name = astra_webhook_get_name (webhook);
	AstraDbusLastAttempt *last = g_hash_table_lookup (self->last_attempts, name);
	g_autoptr(GPtrArray) rows = NULL;

	if (last != NULL) {
		*status = last->status;
		*error = g_strdup (last->error);
		return;
	}
	*status = 0;
	*error = g_strdup ("");
	rows = astra_outbox_list (astra_engine_get_outbox (self->engine), name, -1, 0, 1, NULL);
	if (rows != NULL && rows->len > 0) {
		const AstraDelivery *delivery = g_ptr_array_index (rows, 0);
		if (delivery->attempts > 0) {
			*status = delivery->last_status;
			if (delivery->state != ASTRA_DELIVERY_STATE_DELIVERED) {
				g_free (*error);
				*error = astra_dbus_reason (delivery->last_reason);
			}
		}
	}
}

static void
astra_dbus_service_list_webhooks (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	GPtrArray *webhooks = astra_router_get_webhooks (astra_engine_get_router (self->engine));
	g_autoptr(GPtrArray) statuses =
		       astra_deliverer_get_status (astra_engine_get_deliverer (self->engine));
	AstraOutbox *outbox = astra_engine_get_outbox (self->engine);
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < webhooks->len; i++) {
		AstraWebhook *webhook = g_ptr_array_index (webhooks, i);
		const char *name = astra_webhook_get_name (webhook);
		const AstraWebhookStatus *st = NULL;
		g_autofree char *last_error = NULL;
		g_autofree char *disabled_reason = NULL;
		guint last_status = 0;
		GVariantBuilder item;

		for (guint j = 0; j < statuses->len && st == NULL; j++) {
			const AstraWebhookStatus *candidate = g_ptr_array_index (statuses, j);
			if (g_strcmp0 (candidate->webhook, name) == 0)
				st = candidate;
		}
		astra_dbus_service_last_attempt (self, webhook, &last_status, &last_error);
		disabled_reason = astra_dbus_reason (astra_webhook_get_disabled_reason (webhook));

		/* no URL and no secret, ever: the name says which webhook it is */
		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "name", g_variant_new_string (name));
		astra_dbus_add (&item, "plugin", astra_dbus_string (astra_webhook_get_plugin_name (webhook)));
		astra_dbus_add (&item, "events", astra_dbus_strv (astra_webhook_get_events (webhook)));
		astra_dbus_add (&item, "enabled",
				g_variant_new_boolean (astra_webhook_get_enabled (webhook)));
		astra_dbus_add (&item, "disabled_reason", g_variant_new_string (disabled_reason));
		astra_dbus_add (&item, "min_severity",
				g_variant_new_string (
				    astra_severity_to_string (astra_webhook_get_min_severity (webhook))));
		astra_dbus_add (&item, "circuit",
				g_variant_new_string (astra_circuit_state_to_string (
				    st != NULL ? st->circuit : ASTRA_CIRCUIT_CLOSED)));
		astra_dbus_add (&item, "pending", g_variant_new_uint32 (st != NULL ? st->pending : 0));
		astra_dbus_add (&item, "dead",
				g_variant_new_uint32 (
				    astra_outbox_count (outbox, name, ASTRA_DELIVERY_STATE_DEAD, NULL)));
		astra_dbus_add (&item, "in_flight", g_variant_new_uint32 (st != NULL ? st->in_flight : 0));
		astra_dbus_add (&item, "last_status", g_variant_new_uint32 (last_status));
		astra_dbus_add (&item, "last_error", g_variant_new_string (last_error));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_webhooks (self->skeleton, invocation,
						   g_variant_builder_end (&builder));
}

/* the rule's conditions as the rule file has them: "avg over 5m: warning > 100, critical > 200" */
static char *
astra_dbus_rule_expression (const AstraRule *rule)
{
	g_autoptr(GString) str = g_string_new (NULL);
	const struct {
		const char *key;
		const AstraCondition *condition;
	} conditions[] = { { "warning", &rule->warning },
			   { "critical", &rule->critical },
			   { "clear", &rule->clear } };

	if (rule->aggregate != ASTRA_AGGREGATE_LAST) {
		g_autofree char *window = astra_format_duration (rule->window_us);
		g_string_append_printf (str, "%s over %s: ", astra_aggregate_to_string (rule->aggregate),
					window);
	}
	for (guint i = 0; i < G_N_ELEMENTS (conditions); i++) {
		if (conditions[i].condition->op == ASTRA_COMPARE_NONE)
			continue;
		g_string_append_printf (str, "%s%s %s",
					g_str_has_suffix (str->str, ": ") || str->len == 0 ? "" : ", ",
					conditions[i].key, conditions[i].condition->text);
	}
	if (rule->no_data_us > 0) {
		g_autofree char *duration = astra_format_duration (rule->no_data_us);
		g_string_append_printf (str, "%sno data for %s",
					g_str_has_suffix (str->str, ": ") || str->len == 0 ? "" : ", ",
					duration);
	}
	return g_string_free (g_steal_pointer (&str), FALSE);
}

static void
astra_dbus_service_list_rules (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	AstraRuleSet *rules = astra_rule_engine_get_rules (astra_engine_get_rule_engine (self->engine));
	GPtrArray *list = astra_rule_set_get_rules (rules);
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < list->len; i++) {
		const AstraRule *rule = g_ptr_array_index (list, i);
		g_autofree char *expression = astra_dbus_rule_expression (rule);
		/* the highest a rule can fire with: its critical condition if it has one (no-data too) */
		AstraSeverity severity = rule->critical.op != ASTRA_COMPARE_NONE ? ASTRA_SEVERITY_CRITICAL
										 : ASTRA_SEVERITY_WARNING;
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "name", g_variant_new_string (rule->name));
		astra_dbus_add (&item, "file", astra_dbus_string (rule->file));
		astra_dbus_add (&item, "metric", astra_dbus_string (rule->metric));
		astra_dbus_add (&item, "severity",
				g_variant_new_string (astra_severity_to_string (severity)));
		astra_dbus_add (&item, "expression", g_variant_new_string (expression));
		astra_dbus_add (&item, "for",
				g_variant_new_uint64 ((guint64) (rule->for_us / G_USEC_PER_SEC)));
		astra_dbus_add (&item, "webhooks", astra_dbus_strv ((const char *const *) rule->webhooks));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_rules (self->skeleton, invocation, g_variant_builder_end (&builder));
}

static GVariant *
astra_dbus_alert_labels (const AstraSeries *series, const AstraRule *rule)
{
	g_autoptr(GHashTable) labels = g_hash_table_new (g_str_hash, g_str_equal);
	g_autoptr(GList) names = NULL;
	GVariantBuilder builder;

	/* the series' labels and the rule's, the rule's winning, as the alert's events have them */
	for (guint i = 0; i < series->n_labels; i++)
		g_hash_table_insert (labels, (gpointer) series->labels[i].name,
				     (gpointer) series->labels[i].value);
	for (guint i = 0; rule != NULL && rule->extra_labels != NULL && i < rule->extra_labels->len; i++) {
		const AstraLabel *label = g_ptr_array_index (rule->extra_labels, i);
		g_hash_table_insert (labels, (gpointer) label->name, (gpointer) label->value);
	}
	names = g_list_sort (g_hash_table_get_keys (labels), (GCompareFunc) g_strcmp0);
	g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
	for (GList *l = names; l != NULL; l = l->next)
		g_variant_builder_add (&builder, "{ss}", (const char *) l->data,
				       (const char *) g_hash_table_lookup (labels, l->data));
	return g_variant_builder_end (&builder);
}

static void
astra_dbus_service_list_alerts (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	AstraRuleEngine *rule_engine = astra_engine_get_rule_engine (self->engine);
	AstraRuleSet *rules = astra_rule_engine_get_rules (rule_engine);
	g_autoptr(GPtrArray) alerts = astra_rule_engine_list_alerts (rule_engine);
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < alerts->len; i++) {
		const AstraAlertInfo *info = g_ptr_array_index (alerts, i);
		const AstraRule *rule = astra_rule_set_lookup (rules, info->rule);
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "rule", astra_dbus_string (info->rule));
		astra_dbus_add (
		    &item, "state",
		    g_variant_new_string (info->state == ASTRA_ALERT_STATE_FIRING ? "firing" : "pending"));
		astra_dbus_add (&item, "severity",
				g_variant_new_string (astra_severity_to_string (info->severity)));
		astra_dbus_add (&item, "labels", astra_dbus_alert_labels (info->series, rule));
		astra_dbus_add (&item, "value", g_variant_new_double (info->value));
		astra_dbus_add (&item, "since", g_variant_new_int64 (info->since_us));
		astra_dbus_add (&item, "summary", astra_dbus_string (info->summary));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_alerts (self->skeleton, invocation,
						 g_variant_builder_end (&builder));
}

static void
astra_dbus_service_list_agents (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	AstraAgentRegistry *agents = astra_engine_get_agents (self->engine);
	g_autoptr(GPtrArray) list = astra_agent_registry_list (agents);
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < list->len; i++) {
		const AstraAgentInfo *info = g_ptr_array_index (list, i);
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "agent_id", astra_dbus_string (info->agent_id));
		astra_dbus_add (&item, "hostname", astra_dbus_string (info->hostname));
		astra_dbus_add (&item, "tenant", astra_dbus_string (info->tenant_id));
		astra_dbus_add (&item, "status", g_variant_new_string (info->online ? "online" : "offline"));
		astra_dbus_add (&item, "last_seen", g_variant_new_int64 (info->last_seen_us));
		astra_dbus_add (&item, "registered_at", g_variant_new_int64 (info->first_seen_us));
		astra_dbus_add (&item, "interval",
				g_variant_new_uint64 ((guint64) (info->interval_us / G_USEC_PER_SEC)));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_agents (self->skeleton, invocation,
						 g_variant_builder_end (&builder));
}

/* the ListDeliveries filter: every key known and of its type */
static gboolean
astra_dbus_parse_filter (GVariant *filter, const char **webhook, int *state, guint *limit, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init (&iter, filter);
	while (g_variant_iter_next (&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;

		if (g_strcmp0 (key, "webhook") == 0) {
			if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)) {
				g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
						     "filter: webhook must be a string (s)");
				return FALSE;
			}
			*webhook = g_variant_get_string (value, NULL);
			if (strlen (*webhook) > ASTRA_DBUS_MAX_NAME) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_TOO_LARGE,
					     "filter: webhook: longer than %u bytes",
					     (guint) ASTRA_DBUS_MAX_NAME);
				return FALSE;
			}
		} else if (g_strcmp0 (key, "state") == 0) {
			AstraDeliveryState parsed;
			if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ||
			    !astra_delivery_state_from_string (g_variant_get_string (value, NULL), &parsed)) {
				g_set_error_literal (
				    error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				    "filter: state must be a string (s): pending, delivered, dead, "
				    "skipped or silenced");
				return FALSE;
			}
			*state = (int) parsed;
		} else if (g_strcmp0 (key, "limit") == 0) {
			if (!g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32)) {
				g_set_error_literal (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
						     "filter: limit must be an unsigned 32-bit number (u)");
				return FALSE;
			}
			*limit = g_variant_get_uint32 (value);
			if (*limit < 1 || *limit > ASTRA_DBUS_MAX_LIMIT) {
				g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
					     "filter: limit must be from 1 to %u",
					     (guint) ASTRA_DBUS_MAX_LIMIT);
				return FALSE;
			}
		} else {
			g_autofree char *bounded = astra_engine_excerpt (key, -1, 64);
			g_set_error (error, ASTRA_ERROR, ASTRA_ERROR_INVALID_DATA,
				     "filter: unknown key '%s' (known: webhook, state, limit)", bounded);
			return FALSE;
		}
	}
	return TRUE;
}

static void
astra_dbus_service_list_deliveries (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	GVariant *params = g_dbus_method_invocation_get_parameters (invocation);
	g_autoptr(GVariant) filter = g_variant_get_child_value (params, 0);
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	const char *webhook = NULL;
	int state = -1;
	guint limit = ASTRA_DBUS_DEFAULT_LIMIT;
	GVariantBuilder builder;

	if (!astra_dbus_parse_filter (filter, &webhook, &state, &limit, &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	rows = astra_outbox_list (astra_engine_get_outbox (self->engine), webhook, state, 0, limit,
				  &error_local);
	if (rows == NULL) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < rows->len; i++) {
		const AstraDelivery *delivery = g_ptr_array_index (rows, i);
		g_autofree char *reason = astra_dbus_reason (delivery->last_reason);
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "id", g_variant_new_int64 (delivery->id));
		astra_dbus_add (&item, "event_id", astra_dbus_string (delivery->event_id));
		astra_dbus_add (&item, "event_type", astra_dbus_string (delivery->event_type));
		astra_dbus_add (&item, "webhook", astra_dbus_string (delivery->webhook));
		astra_dbus_add (&item, "state",
				g_variant_new_string (astra_delivery_state_to_string (delivery->state)));
		astra_dbus_add (&item, "attempts", g_variant_new_uint32 (delivery->attempts));
		astra_dbus_add (&item, "created_at", g_variant_new_int64 (delivery->created_us));
		/* updated_us is the end of the last attempt once there was one */
		astra_dbus_add (&item, "last_attempt_at",
				g_variant_new_int64 (delivery->attempts > 0 ? delivery->updated_us : 0));
		astra_dbus_add (&item, "last_status", g_variant_new_uint32 (delivery->last_status));
		astra_dbus_add (&item, "last_latency_ms",
				g_variant_new_double ((double) delivery->last_latency_us / 1000.0));
		astra_dbus_add (&item, "last_reason", g_variant_new_string (reason));
		if (delivery->state == ASTRA_DELIVERY_STATE_PENDING)
			astra_dbus_add (&item, "next_attempt_at",
					g_variant_new_int64 (delivery->next_attempt_us));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_deliveries (self->skeleton, invocation,
						     g_variant_builder_end (&builder));
}

static void
astra_dbus_service_render_event (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(AstraRenderedRequest) request = NULL;
	g_autoptr(GError) error_local = NULL;
	const char *webhook;
	const char *event_type;
	const char *event_json;
	GVariantBuilder builder;
	GVariantBuilder headers;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&s&s)", &webhook,
		       &event_type, &event_json);
	if (!astra_dbus_check_length (invocation, "webhook", webhook, ASTRA_DBUS_MAX_NAME) ||
	    !astra_dbus_check_length (invocation, "event_type", event_type, ASTRA_DBUS_MAX_NAME))
		return;
	request = astra_engine_render (self->engine, webhook, event_type, event_json, &error_local);
	if (request == NULL) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	g_variant_builder_init (&headers, G_VARIANT_TYPE ("a{ss}"));
	for (guint i = 0; i < request->names->len; i++)
		g_variant_builder_add (&headers, "{ss}", (const char *) g_ptr_array_index (request->names, i),
				       (const char *) g_ptr_array_index (request->values, i));
	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (&builder, "method", astra_dbus_string (request->method));
	astra_dbus_add (&builder, "url", astra_dbus_string (request->url));
	astra_dbus_add (&builder, "headers", g_variant_builder_end (&headers));
	astra_dbus_add (&builder, "body", astra_dbus_string (request->body));
	astra_dbus_add (&builder, "event_id", astra_dbus_string (request->event_id));
	astra_dbus_alerts1_complete_render_event (self->skeleton, invocation,
						  g_variant_builder_end (&builder));
}

static void
astra_dbus_service_list_silences (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GPtrArray) silences = astra_silences_list (astra_engine_get_silences (self->engine));
	GVariantBuilder builder;

	g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
	for (guint i = 0; i < silences->len; i++) {
		const AstraSilence *silence = g_ptr_array_index (silences, i);
		GVariantBuilder item;

		g_variant_builder_init (&item, G_VARIANT_TYPE_VARDICT);
		astra_dbus_add (&item, "id", astra_dbus_string (silence->id));
		astra_dbus_add (&item, "matchers", astra_dbus_strv ((const char *const *) silence->matchers));
		astra_dbus_add (&item, "starts_at", g_variant_new_int64 (silence->starts_us));
		astra_dbus_add (&item, "ends_at", g_variant_new_int64 (silence->ends_us));
		astra_dbus_add (&item, "comment", astra_dbus_string (silence->comment));
		astra_dbus_add (&item, "author", astra_dbus_string (silence->author));
		astra_dbus_add (&item, "silenced", g_variant_new_uint32 (silence->n_silenced));
		g_variant_builder_add_value (&builder, g_variant_builder_end (&item));
	}
	astra_dbus_alerts1_complete_list_silences (self->skeleton, invocation,
						   g_variant_builder_end (&builder));
}

/* changing methods (uid is the caller's, already allowed) */

/* what a change wrote is on disk before the caller hears it is done */
static gboolean
astra_dbus_service_flush (AstraDbusService *self, GDBusMethodInvocation *invocation)
{
	g_autoptr(GError) error_local = NULL;
	AstraStateDb *db = astra_engine_get_state_db (self->engine);

	if (db != NULL && !astra_state_db_flush (db, &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return FALSE;
	}
	return TRUE;
}

static void
astra_dbus_service_reload (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GString) message = NULL;
	g_autoptr(GError) error_local = NULL;

	g_message ("reload asked for over D-Bus by uid %u", uid);
	if (astra_engine_reload_from_disk (self->engine, errors)) {
		astra_dbus_alerts1_complete_reload (self->skeleton, invocation,
						    astra_engine_get_generation (self->engine));
		return;
	}
	message = g_string_new (NULL);
	for (guint i = 0; i < errors->len; i++)
		g_string_append_printf (message, "%s%s", i > 0 ? "\n" : "",
					(const char *) g_ptr_array_index (errors, i));
	if (message->len == 0)
		g_string_append (message, "the configuration was refused");
	error_local = g_error_new_literal (ASTRA_ERROR, ASTRA_ERROR_INVALID_CONFIG, message->str);
	astra_dbus_return_error_full (invocation, error_local, ASTRA_DBUS_MAX_RELOAD_ERROR);
}

static void
astra_dbus_service_enable_webhook (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GError) error_local = NULL;
	const char *webhook;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &webhook);
	if (!astra_dbus_check_length (invocation, "webhook", webhook, ASTRA_DBUS_MAX_NAME))
		return;
	if (astra_engine_lookup_webhook (self->engine, webhook, &error_local) == NULL ||
	    !astra_deliverer_enable_webhook (astra_engine_get_deliverer (self->engine), webhook,
					     &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	g_message ("webhook %s enabled over D-Bus by uid %u", webhook, uid);
	astra_dbus_alerts1_complete_enable_webhook (self->skeleton, invocation);
}

typedef struct {
	AstraDbusService *self;
	GDBusMethodInvocation *invocation;
} AstraDbusPending;

static void
astra_dbus_pending_free (AstraDbusPending *pending)
{
	g_object_unref (pending->self);
	g_object_unref (pending->invocation);
	g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraDbusPending, astra_dbus_pending_free)

static void
astra_dbus_service_test_webhook_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(AstraDbusPending) pending = user_data;
	g_autoptr(AstraWebhookTestResult) test = NULL;
	g_autoptr(GError) error_local = NULL;
	GVariantBuilder builder;

	test = astra_engine_test_webhook_finish (ASTRA_ENGINE (source), result, &error_local);
	if (test == NULL) {
		astra_dbus_return_error (pending->invocation, error_local);
		return;
	}
	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (
	    &builder, "outcome",
	    g_variant_new_string (test->skipped ? "skipped" : astra_outcome_to_string (test->outcome)));
	astra_dbus_add (&builder, "status", g_variant_new_uint32 (test->status));
	astra_dbus_add (&builder, "latency_ms", g_variant_new_double (test->latency_ms));
	astra_dbus_add (&builder, "reason", astra_dbus_string (test->reason));
	astra_dbus_add (&builder, "response_excerpt", astra_dbus_string (test->response_excerpt));
	astra_dbus_add (&builder, "event_id", astra_dbus_string (test->event_id));
	astra_dbus_alerts1_complete_test_webhook (pending->self->skeleton, pending->invocation,
						  g_variant_builder_end (&builder));
}

static void
astra_dbus_service_test_webhook (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	AstraDbusPending *pending;
	const char *webhook;
	const char *event_type;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&s)", &webhook, &event_type);
	if (!astra_dbus_check_length (invocation, "webhook", webhook, ASTRA_DBUS_MAX_NAME) ||
	    !astra_dbus_check_length (invocation, "event_type", event_type, ASTRA_DBUS_MAX_NAME))
		return;
	g_message ("webhook test asked for over D-Bus by uid %u", uid);
	pending = g_new0 (AstraDbusPending, 1);
	pending->self = g_object_ref (self);
	pending->invocation = g_object_ref (invocation);
	astra_engine_test_webhook_async (self->engine, webhook, event_type,
					 astra_dbus_service_test_webhook_cb, pending);
}

static void
astra_dbus_service_silence (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree const char **matchers = NULL;
	g_autofree char *author_name = NULL;
	g_autofree char *id = NULL;
	const char *until;
	const char *comment;
	const char *author;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(^a&s&s&s&s)", &matchers,
		       &until, &comment, &author);
	if (g_strv_length ((GStrv) matchers) > ASTRA_DBUS_MAX_MATCHERS) {
		astra_dbus_return_new_error (invocation, ASTRA_ERROR_TOO_LARGE, "matchers: more than %u",
					     (guint) ASTRA_DBUS_MAX_MATCHERS);
		return;
	}
	for (guint i = 0; matchers[i] != NULL; i++) {
		if (!astra_dbus_check_length (invocation, "matchers", matchers[i], ASTRA_DBUS_MAX_TEXT))
			return;
	}
	if (!astra_dbus_check_length (invocation, "until", until, ASTRA_DBUS_MAX_NAME) ||
	    !astra_dbus_check_length (invocation, "comment", comment, ASTRA_DBUS_MAX_TEXT) ||
	    !astra_dbus_check_length (invocation, "author", author, ASTRA_DBUS_MAX_NAME))
		return;
	if (author[0] == '\0') {
		author_name = astra_dbus_user_name (uid);
		author = author_name;
	}
	id = astra_silences_add (astra_engine_get_silences (self->engine), matchers, until, comment, author,
				 &error_local);
	if (id == NULL) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	if (!astra_dbus_service_flush (self, invocation))
		return;
	g_message ("silence %s added over D-Bus by uid %u", id, uid);
	astra_dbus_alerts1_complete_silence (self->skeleton, invocation, id);
}

static void
astra_dbus_service_unsilence (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GError) error_local = NULL;
	const char *id;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s)", &id);
	if (!astra_dbus_check_length (invocation, "id", id, ASTRA_DBUS_MAX_NAME))
		return;
	if (!astra_silences_remove (astra_engine_get_silences (self->engine), id, &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	if (!astra_dbus_service_flush (self, invocation))
		return;
	g_message ("silence %s ended over D-Bus by uid %u", id, uid);
	astra_dbus_alerts1_complete_unsilence (self->skeleton, invocation);
}

static void
astra_dbus_service_redeliver (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GError) error_local = NULL;
	gint64 id = 0;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(x)", &id);
	if (!astra_deliverer_redeliver (astra_engine_get_deliverer (self->engine), id, &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	if (!astra_dbus_service_flush (self, invocation))
		return;
	g_message ("delivery %" G_GINT64_FORMAT " redelivered over D-Bus by uid %u", id, uid);
	astra_dbus_alerts1_complete_redeliver (self->skeleton, invocation);
}

static void
astra_dbus_service_push_sample (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GVariantIter) iter = NULL;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GArray) labels = g_array_new (FALSE, FALSE, sizeof (AstraLabel));
	const char *metric;
	const char *name;
	const char *value_text;
	double value = 0;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&sda{ss})", &metric, &value,
		       &iter);
	if (!astra_dbus_check_length (invocation, "metric", metric, ASTRA_DBUS_MAX_NAME))
		return;
	if (g_variant_iter_n_children (iter) > ASTRA_DBUS_MAX_LABELS) {
		astra_dbus_return_new_error (invocation, ASTRA_ERROR_TOO_LARGE, "labels: more than %u",
					     (guint) ASTRA_DBUS_MAX_LABELS);
		return;
	}
	/* the strings stay in the invocation's parameters, which outlive this call */
	while (g_variant_iter_next (iter, "{&s&s}", &name, &value_text)) {
		AstraLabel label = { name, value_text };
		g_array_append_val (labels, label);
	}
	if (!astra_engine_push_sample (self->engine, metric, value, (const AstraLabel *) labels->data,
				       labels->len, &error_local)) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	if (!astra_dbus_service_flush (self, invocation))
		return;
	g_debug ("sample of %s pushed over D-Bus by uid %u", metric, uid);
	astra_dbus_alerts1_complete_push_sample (self->skeleton, invocation);
}

static void
astra_dbus_service_emit_event (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	g_autoptr(GError) error_local = NULL;
	g_autoptr(AstraEvent) event = NULL;
	const char *event_type;
	const char *data_json;

	g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&s)", &event_type,
		       &data_json);
	if (!astra_dbus_check_length (invocation, "event_type", event_type, ASTRA_DBUS_MAX_NAME))
		return;
	event = astra_engine_emit_json (self->engine, event_type, data_json, &error_local);
	if (event == NULL) {
		astra_dbus_return_error (invocation, error_local);
		return;
	}
	if (!astra_dbus_service_flush (self, invocation))
		return;
	g_message ("event %s %s emitted over D-Bus by uid %u", astra_event_get_type_name (event),
		   astra_event_get_id (event), uid);
	astra_dbus_alerts1_complete_emit_event (self->skeleton, invocation, astra_event_get_id (event));
}

/* subscriptions: EventEmitted and DeliveryFailed go out only while someone listens */

#define ASTRA_DBUS_MAX_SUBSCRIBERS 64

static void
astra_dbus_service_subscriber_vanished_cb (GDBusConnection *connection, const char *name, gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);

	g_hash_table_remove (self->subscribers, name);
}

static void
astra_dbus_subscriber_unwatch (gpointer watch_id)
{
	if (GPOINTER_TO_UINT (watch_id) != 0)
		g_bus_unwatch_name (GPOINTER_TO_UINT (watch_id));
}

static void
astra_dbus_service_subscribe (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	const char *sender = g_dbus_method_invocation_get_sender (invocation);
	guint watch_id = 0;

	if (g_hash_table_contains (self->subscribers, sender != NULL ? sender : "")) {
		astra_dbus_alerts1_complete_subscribe (self->skeleton, invocation);
		return;
	}
	if (g_hash_table_size (self->subscribers) >= ASTRA_DBUS_MAX_SUBSCRIBERS) {
		astra_dbus_return_new_error (invocation, ASTRA_ERROR_TOO_LARGE,
					     "%u clients are subscribed already, the most there may be",
					     ASTRA_DBUS_MAX_SUBSCRIBERS);
		return;
	}
	/* a client that leaves without unsubscribing must not keep the signals going */
	if (sender != NULL)
		watch_id = g_bus_watch_name_on_connection (g_dbus_method_invocation_get_connection (invocation),
							   sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
							   astra_dbus_service_subscriber_vanished_cb, self, NULL);
	g_hash_table_insert (self->subscribers, g_strdup (sender != NULL ? sender : ""),
			     GUINT_TO_POINTER (watch_id));
	astra_dbus_alerts1_complete_subscribe (self->skeleton, invocation);
}

static void
astra_dbus_service_unsubscribe (AstraDbusService *self, GDBusMethodInvocation *invocation, guint32 uid)
{
	const char *sender = g_dbus_method_invocation_get_sender (invocation);

	if (!g_hash_table_remove (self->subscribers, sender != NULL ? sender : "")) {
		astra_dbus_return_new_error (invocation, ASTRA_ERROR_NOT_FOUND, "this connection is not subscribed");
		return;
	}
	astra_dbus_alerts1_complete_unsubscribe (self->skeleton, invocation);
}

/* dispatch and access control */

static const struct {
	const char *name;
	AstraDbusMethodFunc func;
	gboolean changes;
} astra_dbus_methods[] = {
	{ "GetStatus", astra_dbus_service_get_status, FALSE },
	{ "ListPlugins", astra_dbus_service_list_plugins, FALSE },
	{ "ListWebhooks", astra_dbus_service_list_webhooks, FALSE },
	{ "ListRules", astra_dbus_service_list_rules, FALSE },
	{ "ListAlerts", astra_dbus_service_list_alerts, FALSE },
	{ "ListAgents", astra_dbus_service_list_agents, FALSE },
	{ "ListDeliveries", astra_dbus_service_list_deliveries, FALSE },
	{ "RenderEvent", astra_dbus_service_render_event, FALSE },
	{ "ListSilences", astra_dbus_service_list_silences, FALSE },
	{ "Subscribe", astra_dbus_service_subscribe, FALSE },
	{ "Unsubscribe", astra_dbus_service_unsubscribe, FALSE },
	{ "Reload", astra_dbus_service_reload, TRUE },
	{ "EnableWebhook", astra_dbus_service_enable_webhook, TRUE },
	{ "TestWebhook", astra_dbus_service_test_webhook, TRUE },
	{ "Silence", astra_dbus_service_silence, TRUE },
	{ "Unsilence", astra_dbus_service_unsilence, TRUE },
	{ "Redeliver", astra_dbus_service_redeliver, TRUE },
	{ "PushSample", astra_dbus_service_push_sample, TRUE },
	{ "EmitEvent", astra_dbus_service_emit_event, TRUE },
};

typedef struct {
	AstraDbusService *self;
	GDBusMethodInvocation *invocation;
	AstraDbusMethodFunc func;
} AstraDbusCall;

static void
astra_dbus_call_free (AstraDbusCall *call)
{
	g_object_unref (call->self);
	g_object_unref (call->invocation);
	g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AstraDbusCall, astra_dbus_call_free)

static void
astra_dbus_service_authorize (AstraDbusCall *call, guint32 uid)
{
	AstraConfig *config = astra_engine_get_config (call->self->engine);
	g_autoptr(GError) error_local = NULL;

	if (!astra_config_check_admin (config, uid, &error_local)) {
		/* who and what, never the arguments: they may hold a secret */
		g_message ("refused %s from uid %u (%s): not root and not in group '%s'",
			   g_dbus_method_invocation_get_method_name (call->invocation), uid,
			   g_dbus_method_invocation_get_sender (call->invocation) != NULL
			       ? g_dbus_method_invocation_get_sender (call->invocation)
			       : "peer",
			   astra_config_get_admin_group (config));
		astra_dbus_return_error (call->invocation, error_local);
		return;
	}
	call->func (call->self, call->invocation, uid);
}

static void
astra_dbus_service_caller_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(AstraDbusCall) call = user_data;
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GVariant) reply =
		       g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error_local);
	guint32 uid = 0;

	if (reply == NULL) {
		g_warning ("cannot tell who called %s: %s",
			   g_dbus_method_invocation_get_method_name (call->invocation), error_local->message);
		astra_dbus_return_new_error (call->invocation, ASTRA_ERROR_ACCESS_DENIED,
					     "the bus could not say who is calling: %s",
					     error_local->message);
		return;
	}
	g_variant_get (reply, "(u)", &uid);
	astra_dbus_service_authorize (call, uid);
}

/* every handle-* signal comes here (connected swapped): the method name picks the function */
static gboolean
astra_dbus_service_handle_cb (AstraDbusService *self, GDBusMethodInvocation *invocation)
{
	const char *method = g_dbus_method_invocation_get_method_name (invocation);
	GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
	const char *sender = g_dbus_method_invocation_get_sender (invocation);
	AstraDbusCall *call;

	for (guint i = 0; i < G_N_ELEMENTS (astra_dbus_methods); i++) {
		if (g_strcmp0 (astra_dbus_methods[i].name, method) != 0)
			continue;
		if (!astra_dbus_methods[i].changes) {
			astra_dbus_methods[i].func (self, invocation, G_MAXUINT32);
			return TRUE;
		}
		call = g_new0 (AstraDbusCall, 1);
		call->self = g_object_ref (self);
		call->invocation = g_object_ref (invocation);
		call->func = astra_dbus_methods[i].func;
		/* a peer-to-peer connection has no bus to ask: its credentials are the peer's */
		if (sender == NULL) {
			GCredentials *credentials = g_dbus_connection_get_peer_credentials (connection);
			g_autoptr(GError) error_local = NULL;
			uid_t uid = credentials != NULL
					? g_credentials_get_unix_user (credentials, &error_local)
					: (uid_t) -1;

			if (uid == (uid_t) -1) {
				astra_dbus_return_new_error (invocation, ASTRA_ERROR_ACCESS_DENIED,
							     "the connection does not say who is calling");
				astra_dbus_call_free (call);
				return TRUE;
			}
			astra_dbus_service_authorize (call, (guint32) uid);
			astra_dbus_call_free (call);
			return TRUE;
		}
		/* asked, not blocked on: the main loop goes on while the bus answers */
		g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "GetConnectionUnixUser",
					g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
					G_DBUS_CALL_FLAGS_NONE, ASTRA_DBUS_CALLER_TIMEOUT_MS, NULL,
					astra_dbus_service_caller_cb, call);
		return TRUE;
	}
	return FALSE;
}

/* the engine's news, as signals */

static void
astra_dbus_service_event_routed_cb (
    AstraEngine *engine, AstraEvent *event, guint n_webhooks, gboolean silenced, gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);
	JsonObject *data;
	GVariantBuilder builder;

	if (g_hash_table_size (self->subscribers) == 0)
		return;
	data = astra_event_get_data (event);
	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (&builder, "timestamp",
			g_variant_new_int64 (astra_event_get_timestamp (event) * G_USEC_PER_SEC));
	astra_dbus_add (&builder, "severity",
			g_variant_new_string (astra_severity_to_string (astra_event_get_severity (event))));
	astra_dbus_add (
	    &builder, "agent_id",
	    astra_dbus_string (json_object_get_string_member_with_default (data, "agent_id", "")));
	astra_dbus_add (&builder, "rule",
			astra_dbus_string (json_object_get_string_member_with_default (data, "rule", "")));
	astra_dbus_add (&builder, "webhooks", g_variant_new_uint32 (n_webhooks));
	astra_dbus_add (&builder, "silenced", g_variant_new_boolean (silenced));
	astra_dbus_alerts1_emit_event_emitted (self->skeleton, astra_event_get_type_name (event),
					       astra_event_get_id (event), g_variant_builder_end (&builder));
	astra_dbus_service_queue_update (self);
}

static void
astra_dbus_service_alert_changed_cb (AstraEngine *engine, AstraEvent *event, gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);
	JsonObject *data = astra_event_get_data (event);
	JsonNode *labels_node = json_object_get_member (data, "labels");
	JsonObject *labels = labels_node != NULL && JSON_NODE_HOLDS_OBJECT (labels_node)
				 ? json_node_get_object (labels_node)
				 : NULL;
	JsonNode *value = json_object_get_member (data, "value");
	GVariantBuilder builder;
	GVariantBuilder label_builder;

	g_variant_builder_init (&label_builder, G_VARIANT_TYPE ("a{ss}"));
	if (labels != NULL) {
		JsonObjectIter iter;
		const char *name;
		JsonNode *member;

		json_object_iter_init (&iter, labels);
		while (json_object_iter_next (&iter, &name, &member)) {
			if (JSON_NODE_HOLDS_VALUE (member) &&
			    json_node_get_value_type (member) == G_TYPE_STRING)
				g_variant_builder_add (&label_builder, "{ss}", name,
						       json_node_get_string (member));
		}
	}
	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (&builder, "rule",
			astra_dbus_string (json_object_get_string_member_with_default (data, "rule", "")));
	astra_dbus_add (&builder, "state",
			g_variant_new_string (astra_event_get_kind (event) == ASTRA_EVENT_KIND_ALERT_RESOLVED
						  ? "resolved"
						  : "firing"));
	astra_dbus_add (&builder, "severity",
			g_variant_new_string (astra_severity_to_string (astra_event_get_severity (event))));
	astra_dbus_add (&builder, "labels", g_variant_builder_end (&label_builder));
	astra_dbus_add (&builder, "value",
			g_variant_new_double (value != NULL && JSON_NODE_HOLDS_VALUE (value)
						  ? json_node_get_double (value)
						  : 0));
	astra_dbus_add (&builder, "since",
			g_variant_new_int64 (astra_dbus_parse_time (
			    json_object_get_string_member_with_default (data, "started_at", NULL))));
	astra_dbus_add (&builder, "event_id", g_variant_new_string (astra_event_get_id (event)));
	astra_dbus_alerts1_emit_alert_changed (self->skeleton, g_variant_builder_end (&builder));
	astra_dbus_service_queue_update (self);
}

static void
astra_dbus_service_attempt_finished_cb (AstraEngine *engine,
					const char *webhook,
					gpointer delivery_ptr,
					AstraAttempt *attempt,
					gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);
	AstraDbusLastAttempt *last;

	if (attempt->skipped)
		return;
	/* every attempt passes here: a success after a success allocates nothing */
	last = g_hash_table_lookup (self->last_attempts, webhook);
	if (last == NULL) {
		last = g_new0 (AstraDbusLastAttempt, 1);
		g_hash_table_insert (self->last_attempts, g_strdup (webhook), last);
	}
	last->status = attempt->status;
	if (attempt->outcome != ASTRA_OUTCOME_DELIVERED) {
		g_free (last->error);
		last->error = astra_dbus_attempt_reason (self, webhook, attempt);
	} else if (last->error == NULL || last->error[0] != '\0') {
		g_free (last->error);
		last->error = g_strdup ("");
	}
}

static void
astra_dbus_service_delivery_failed_cb (AstraEngine *engine,
				       const char *webhook,
				       gpointer delivery_ptr,
				       AstraAttempt *attempt,
				       gboolean final,
				       gpointer user_data)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (user_data);
	const AstraDelivery *delivery = delivery_ptr;
	g_autofree char *reason = NULL;
	GVariantBuilder builder;

	if (g_hash_table_size (self->subscribers) == 0)
		return;
	reason = astra_dbus_attempt_reason (self, webhook, attempt);
	g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
	astra_dbus_add (&builder, "id", g_variant_new_int64 (delivery->id));
	astra_dbus_add (&builder, "event_id", astra_dbus_string (delivery->event_id));
	astra_dbus_add (&builder, "event_type", astra_dbus_string (delivery->event_type));
	astra_dbus_add (&builder, "webhook", astra_dbus_string (webhook));
	astra_dbus_add (&builder, "attempt", g_variant_new_uint32 (delivery->attempts));
	astra_dbus_add (&builder, "status", g_variant_new_uint32 (attempt->status));
	astra_dbus_add (&builder, "reason", g_variant_new_string (reason));
	astra_dbus_add (&builder, "final", g_variant_new_boolean (final));
	astra_dbus_alerts1_emit_delivery_failed (self->skeleton, g_variant_builder_end (&builder));
}

static void
astra_dbus_service_reloaded_cb (AstraEngine *engine, guint generation, gpointer user_data)
{
	astra_dbus_service_queue_update (ASTRA_DBUS_SERVICE (user_data));
}

/* the object */

static void
astra_dbus_service_dispose (GObject *object)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (object);

	astra_dbus_service_unexport (self);
	/* the watches call back into this object */
	g_hash_table_remove_all (self->subscribers);
	g_clear_handle_id (&self->update_id, g_source_remove);
	if (self->engine != NULL)
		g_signal_handlers_disconnect_by_data (self->engine, self);
	g_clear_object (&self->engine);
	g_clear_object (&self->skeleton);
	G_OBJECT_CLASS (astra_dbus_service_parent_class)->dispose (object);
}

static void
astra_dbus_service_finalize (GObject *object)
{
	AstraDbusService *self = ASTRA_DBUS_SERVICE (object);

	g_hash_table_unref (self->last_attempts);
	g_hash_table_unref (self->subscribers);
	G_OBJECT_CLASS (astra_dbus_service_parent_class)->finalize (object);
}

static void
astra_dbus_service_class_init (AstraDbusServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS (klass);

	object_class->dispose = astra_dbus_service_dispose;
	object_class->finalize = astra_dbus_service_finalize;
}

static void
astra_dbus_service_init (AstraDbusService *self)
{
	self->last_attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
						     (GDestroyNotify) astra_dbus_last_attempt_free);
	self->subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, astra_dbus_subscriber_unwatch);
}

/**
 * astra_dbus_service_new:
 * @engine: a started #AstraEngine
 *
 * Makes the skeleton of org.astranetmon.Alerts1 for @engine; nothing is
 * exported until astra_dbus_service_export().
 *
 * Returns: (transfer full): the service
 *
 * Since: 1.0
 */
AstraDbusService *
astra_dbus_service_new (AstraEngine *engine)
{
	AstraDbusService *self = g_object_new (ASTRA_TYPE_DBUS_SERVICE, NULL);
	GDBusInterfaceInfo *info;

	self->engine = g_object_ref (engine);
	self->skeleton = astra_dbus_alerts1_skeleton_new ();
	info = g_dbus_interface_skeleton_get_info (G_DBUS_INTERFACE_SKELETON (self->skeleton));
	for (guint i = 0; info->methods != NULL && info->methods[i] != NULL; i++) {
		g_autofree char *signal = NULL;
		g_autoptr(GString) name = g_string_new ("handle-");

		/* "ListWebhooks" -> "handle-list-webhooks", as gdbus-codegen names them */
		for (const char *p = info->methods[i]->name; *p != '\0'; p++) {
			if (g_ascii_isupper (*p) && p != info->methods[i]->name)
				g_string_append_c (name, '-');
			g_string_append_c (name, g_ascii_tolower (*p));
		}
		signal = g_string_free (g_steal_pointer (&name), FALSE);
		g_signal_connect_swapped (self->skeleton, signal, G_CALLBACK (astra_dbus_service_handle_cb),
					  self);
	}

	astra_dbus_alerts1_set_version (self->skeleton, PACKAGE_VERSION);
	astra_dbus_alerts1_set_started_at (self->skeleton, astra_engine_get_started_at (engine));
	astra_dbus_service_update_properties (self);

	g_signal_connect (engine, "event-routed", G_CALLBACK (astra_dbus_service_event_routed_cb), self);
	g_signal_connect (engine, "alert-changed", G_CALLBACK (astra_dbus_service_alert_changed_cb), self);
	g_signal_connect (engine, "attempt-finished", G_CALLBACK (astra_dbus_service_attempt_finished_cb),
			  self);
	g_signal_connect (engine, "delivery-failed", G_CALLBACK (astra_dbus_service_delivery_failed_cb),
			  self);
	g_signal_connect (engine, "reloaded", G_CALLBACK (astra_dbus_service_reloaded_cb), self);
	return self;
}

/**
 * astra_dbus_service_export:
 * @self: an #AstraDbusService
 * @connection: a bus connection
 * @error: return location for a #GError
 *
 * Exports the object at /org/astranetmon/Alerts1 on @connection.
 *
 * Returns: %TRUE on success
 *
 * Since: 1.0
 */
gboolean
astra_dbus_service_export (AstraDbusService *self, GDBusConnection *connection, GError **error)
{
	g_return_val_if_fail (ASTRA_IS_DBUS_SERVICE (self), FALSE);

	if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection,
					       ASTRA_DBUS_SERVICE_PATH, error))
		return FALSE;
	self->exported = TRUE;
	return TRUE;
}

/**
 * astra_dbus_service_unexport:
 * @self: an #AstraDbusService
 *
 * Takes the object off every connection it was exported on.
 *
 * Since: 1.0
 */
void
astra_dbus_service_unexport (AstraDbusService *self)
{
	if (!self->exported)
		return;
	g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
	self->exported = FALSE;
}
