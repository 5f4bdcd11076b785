/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "astra-rule.h"
#include "astra-webhook.h"
#include "astra-event-schema.h"

/* keys every webhook group may carry whatever its plugin; later issues append here */
static const char *const astra_webhook_core_keys[] = {
    "plugin",
    "events",
    "enabled",
    "min-severity",
    "timeout",
    "secret",
    "secret-file",
    "signature",
    "retry-schedule",
    "max-age",
    "rate-limit",
    "max-in-flight",
    "breaker-failures",
    "breaker-cooldown",
    NULL,
};

/* close to Standard Webhooks' schedule: the waits before attempts 2 to 10 */
static const gint64 astra_webhook_default_schedule_s[] = {5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600,
							  10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600};

/* what each destination documents it takes (DESTINATIONS.md), as "count in any period";
 * others are not limited */
static const struct {
	const char *plugin;
	guint count;
	gint64 period_us;
} astra_webhook_default_rates[] = {
    {"slack", 3, 3 * G_TIME_SPAN_SECOND},       /* one message per second, short bursts allowed */
    {"discord", 5, 2 * G_TIME_SPAN_SECOND},     /* 5 requests per 2 s per webhook */
    {"teams", 4, G_TIME_SPAN_SECOND},           /* 4 requests per second */
    {"pagerduty", 120, G_TIME_SPAN_MINUTE},     /* 120 events per minute per routing key */
};

struct _AstraWebhook {
	GObject parent_instance;
	char *name;
	char *plugin_name;
	AstraPlugin *plugin;
	gboolean enabled;
	GStrv events;
	guint32 kind_mask; /* bit per AstraEventKind the events globs match */
	AstraSeverity min_severity;
	guint timeout;
	AstraSigner *signer;
	char *disabled_reason;
	AstraDeliveryPolicy policy;
	GStrv secrets;
};

G_STATIC_ASSERT (ASTRA_EVENT_KIND_LAST <= 32);

G_DEFINE_FINAL_TYPE (AstraWebhook, astra_webhook, G_TYPE_OBJECT)

static void
astra_webhook_finalize (GObject *object)
{
	AstraWebhook *self = ASTRA_WEBHOOK (object);

	g_free (self->name);
	g_free (self->plugin_name);
	g_clear_object (&self->plugin);
	g_strfreev (self->events);
	g_clear_object (&self->signer);
	g_free (self->disabled_reason);
	g_array_unref (self->policy.retry_schedule_us);
	g_strfreev (self->secrets);
	G_OBJECT_CLASS (astra_webhook_parent_class)->finalize (object);
}

static void
astra_webhook_class_init (AstraWebhookClass *klass)
{
	G_OBJECT_CLASS (klass)->finalize = astra_webhook_finalize;
}

static void
astra_webhook_init (AstraWebhook *self)
{
	self->enabled = TRUE;
	self->timeout = ASTRA_WEBHOOK_DEFAULT_TIMEOUT;
	self->min_severity = ASTRA_SEVERITY_INFO;
	self->policy.retry_schedule_us = g_array_new (FALSE, FALSE, sizeof (gint64));
	for (guint i = 0; i < G_N_ELEMENTS (astra_webhook_default_schedule_s); i++) {
		gint64 us = astra_webhook_default_schedule_s[i] * G_USEC_PER_SEC;
		g_array_append_val (self->policy.retry_schedule_us, us);
	}
	self->policy.max_in_flight = ASTRA_WEBHOOK_DEFAULT_MAX_IN_FLIGHT;
	self->policy.breaker_failures = ASTRA_WEBHOOK_DEFAULT_BREAKER_FAILURES;
	self->policy.breaker_cooldown_us = ASTRA_WEBHOOK_DEFAULT_BREAKER_COOLDOWN_S * G_USEC_PER_SEC;
}

/* errors about a webhook are located in the file and group that define it */
#define astra_webhook_add_error(config, wc, key, errors, ...) \
	astra_config_add_error ((config), (errors), (wc)->file, (wc)->group, (key), __VA_ARGS__)

static gboolean
astra_webhook_parse_events (AstraWebhook *self,
			    AstraConfig *config,
			    const AstraWebhookConfig *wc,
			    GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (wc->keyfile, wc->group, "events", NULL);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
	g_auto(GStrv) parts = NULL;
	gboolean ok = TRUE;

	/* subscribing to everything is the useful default for a new receiver */
	if (value == NULL)
		value = g_strdup ("*");
	parts = g_strsplit_set (value, ";,", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		const char *glob = g_strstrip (parts[i]);
		g_autoptr(GPatternSpec) spec = NULL;
		guint32 matched = 0;

		if (glob[0] == '\0')
			continue;
		spec = g_pattern_spec_new (glob);
		for (guint kind = ASTRA_EVENT_KIND_UNKNOWN + 1; kind < ASTRA_EVENT_KIND_LAST; kind++) {
			if (g_pattern_spec_match_string (spec, astra_event_kind_to_string (kind)))
				matched |= 1u << kind;
		}
		/* a typo must not silently subscribe to nothing */
		if (matched == 0) {
			g_autofree char *known = astra_event_schema_list_types ();
			astra_webhook_add_error (config, wc, "events", errors,
						 "'%s' matches no event type (known: %s)", glob, known);
			ok = FALSE;
			continue;
		}
		self->kind_mask |= matched;
		g_strv_builder_add (builder, glob);
	}
	self->events = g_strv_builder_end (builder);
	if (ok && self->kind_mask == 0) {
		astra_webhook_add_error (config, wc, "events", errors, "no event type given");
		ok = FALSE;
	}
	return ok;
}

/* the SDK's messages may already start with "KEY: " */
static const char *
astra_webhook_strip_key (const char *message, const char *key)
{
	gsize len = strlen (key);

	if (strncmp (message, key, len) == 0 && message[len] == ':' && message[len + 1] == ' ')
		return message + len + 2;
	return message;
}

/* a duration key (astra_parse_duration syntax) within [min_us, max_us]; FALSE after reporting it */
static gboolean
astra_webhook_read_duration (AstraConfig *config,
			     const AstraWebhookConfig *wc,
			     const char *key,
			     gint64 min_us,
			     gint64 max_us,
			     gint64 *out,
			     GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (wc->keyfile, wc->group, key, NULL);
	gint64 us = 0;

	if (value == NULL)
		return TRUE;
	if (!astra_parse_duration (g_strstrip (value), &us) || us < min_us || us > max_us) {
		astra_webhook_add_error (config, wc, key, errors,
					 "'%s' is not a duration from %" G_GINT64_FORMAT " s to %" G_GINT64_FORMAT
					 " days (e.g. 30s, 5m, 2h, 3d)",
					 value, min_us / G_USEC_PER_SEC, max_us / G_TIME_SPAN_DAY);
		return FALSE;
	}
	*out = us;
	return TRUE;
}

static void
astra_webhook_read_count (AstraConfig *config,
			  const AstraWebhookConfig *wc,
			  const char *key,
			  guint64 min,
			  guint64 max,
			  guint *out,
			  GPtrArray *errors)
{
	g_autofree char *value = g_key_file_get_string (wc->keyfile, wc->group, key, NULL);
	guint64 number = 0;

	if (value == NULL)
		return;
	if (!g_ascii_string_to_unsigned (g_strstrip (value), 10, min, max, &number, NULL)) {
		astra_webhook_add_error (config, wc, key, errors,
					 "'%s' is not a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT,
					 value, min, max);
		return;
	}
	*out = (guint) number;
}

/* retry-schedule, max-age, rate-limit, max-in-flight, breaker-failures, breaker-cooldown */
static void
astra_webhook_parse_policy (AstraWebhook *self, AstraConfig *config, const AstraWebhookConfig *wc, GPtrArray *errors)
{
	AstraDeliveryPolicy *policy = &self->policy;
	g_autofree char *schedule = g_key_file_get_string (wc->keyfile, wc->group, "retry-schedule", NULL);
	g_autofree char *rate = g_key_file_get_string (wc->keyfile, wc->group, "rate-limit", NULL);

	for (guint i = 0; i < G_N_ELEMENTS (astra_webhook_default_rates); i++) {
		if (g_strcmp0 (self->plugin_name, astra_webhook_default_rates[i].plugin) == 0) {
			policy->rate_count = astra_webhook_default_rates[i].count;
			policy->rate_period_us = astra_webhook_default_rates[i].period_us;
		}
	}

	if (schedule != NULL) {
		g_auto(GStrv) parts = g_strsplit_set (schedule, ",;", -1);
		gboolean ok = TRUE;

		g_array_set_size (policy->retry_schedule_us, 0);
		for (guint i = 0; parts[i] != NULL && ok; i++) {
			const char *part = g_strstrip (parts[i]);
			gint64 us = 0;

			if (part[0] == '\0' && parts[1] == NULL && i == 0)
				break;
			/* "none" alone: one attempt and no retry */
			if (g_strcmp0 (part, "none") == 0 && i == 0 && parts[1] == NULL)
				break;
			if (!astra_parse_duration (part, &us) || us < G_USEC_PER_SEC || us > 7 * G_TIME_SPAN_DAY) {
				astra_webhook_add_error (config, wc, "retry-schedule", errors,
							 "'%s' is not a wait from 1s to 7d; expected waits separated by commas, "
							 "e.g. 5s, 5m, 30m, 2h (or none)",
							 part);
				ok = FALSE;
			}
			g_array_append_val (policy->retry_schedule_us, us);
		}
		if (ok && policy->retry_schedule_us->len > 100)
			astra_webhook_add_error (config, wc, "retry-schedule", errors, "at most 100 retries");
	}
	astra_webhook_read_duration (config, wc, "max-age", 0, 30 * G_TIME_SPAN_DAY, &policy->max_age_us, errors);

	if (rate != NULL) {
		g_strstrip (rate);
		if (g_strcmp0 (rate, "none") == 0) {
			policy->rate_count = 0;
		} else {
			const char *slash = strchr (rate, '/');
			g_autofree char *count = slash != NULL ? g_strndup (rate, (gsize) (slash - rate)) : NULL;
			guint64 n = 0;
			gint64 per_us = 0;
			const char *per = slash != NULL ? slash + 1 : NULL;
			g_autofree char *per_text = NULL;

			/* "5/2s", "1/s", "120/1m": a bare unit means one of it */
			if (per != NULL && (g_strcmp0 (per, "s") == 0 || g_strcmp0 (per, "m") == 0 || g_strcmp0 (per, "h") == 0))
				per_text = g_strdup_printf ("1%s", per);
			else
				per_text = g_strdup (per);
			/* the count is the size of the window the deliverer keeps: bounded */
			if (count == NULL || !g_ascii_string_to_unsigned (g_strstrip (count), 10, 1, 10000, &n, NULL) ||
			    !astra_parse_duration (g_strstrip (per_text), &per_us) || per_us < G_TIME_SPAN_MILLISECOND ||
			    per_us > G_TIME_SPAN_DAY) {
				astra_webhook_add_error (config, wc, "rate-limit", errors,
							 "'%s' is not a rate such as 1/s, 5/2s, 120/1m (or none)", rate);
			} else {
				policy->rate_count = (guint) n;
				policy->rate_period_us = per_us;
			}
		}
	}
	astra_webhook_read_count (config, wc, "max-in-flight", 1, 256, &policy->max_in_flight, errors);
	astra_webhook_read_count (config, wc, "breaker-failures", 1, 1000, &policy->breaker_failures, errors);
	astra_webhook_read_duration (config, wc, "breaker-cooldown", G_USEC_PER_SEC, G_TIME_SPAN_HOUR,
				     &policy->breaker_cooldown_us, errors);
}

static gboolean
astra_webhook_parse_signer (AstraWebhook *self,
			    AstraConfig *config,
			    const AstraWebhookConfig *wc,
			    GPtrArray *errors)
{
	g_autoptr(GError) error_local = NULL;
	g_autofree char *scheme_str = g_key_file_get_string (wc->keyfile, wc->group, "signature", NULL);
	g_autofree char *secret = NULL;
	AstraSignatureScheme scheme = ASTRA_SIGNATURE_SCHEME_ASTRA;
	const char *secret_key;

	if (scheme_str == NULL || g_strcmp0 (scheme_str, "astra") == 0) {
		scheme = ASTRA_SIGNATURE_SCHEME_ASTRA;
	} else if (g_strcmp0 (scheme_str, "standard-webhooks") == 0) {
		scheme = ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS;
	} else {
		astra_webhook_add_error (config, wc, "signature", errors,
					 "'%s' is not a signature scheme (astra or standard-webhooks)",
					 scheme_str);
		return FALSE;
	}

	secret = astra_key_file_get_secret (wc->keyfile, wc->group, "secret", &error_local);
	secret_key = g_key_file_has_key (wc->keyfile, wc->group, "secret-file", NULL) ? "secret-file" : "secret";
	if (error_local != NULL) {
		astra_webhook_add_error (config, wc, secret_key, errors, "%s",
					 astra_webhook_strip_key (error_local->message, secret_key));
		return FALSE;
	}
	if (secret == NULL) {
		if (scheme_str != NULL) {
			astra_webhook_add_error (config, wc, "signature", errors,
						 "a signature scheme is set but there is no secret or secret-file");
			return FALSE;
		}
		return TRUE;
	}

	self->signer = astra_signer_new (scheme);
	if (scheme == ASTRA_SIGNATURE_SCHEME_STANDARD_WEBHOOKS) {
		/* several whsec_ secrets, separated by white space, sign side by side during a rotation */
		g_auto(GStrv) secrets = g_strsplit_set (secret, " \t\r\n", -1);
		for (guint i = 0; secrets[i] != NULL; i++) {
			if (secrets[i][0] == '\0')
				continue;
			if (!astra_signer_add_secret (self->signer, secrets[i], &error_local)) {
				astra_webhook_add_error (config, wc, secret_key, errors, "%s", error_local->message);
				return FALSE;
			}
		}
	} else if (!astra_signer_add_secret (self->signer, secret, &error_local)) {
		astra_webhook_add_error (config, wc, secret_key, errors, "%s", error_local->message);
		return FALSE;
	}
	return TRUE;
}

static gint
astra_webhook_compare_length (gconstpointer a, gconstpointer b)
{
	gsize len_a = strlen (*(const char *const *) a);
	gsize len_b = strlen (*(const char *const *) b);

	return len_a < len_b ? 1 : len_a > len_b ? -1 : 0;
}

/* shorter strings would blank out ordinary words of a body */
#define ASTRA_WEBHOOK_MIN_SECRET_LEN 4

static void
astra_webhook_add_secret (GPtrArray *secrets, const char *value)
{
	if (value == NULL || strlen (value) < ASTRA_WEBHOOK_MIN_SECRET_LEN)
		return;
	for (guint i = 0; i < secrets->len; i++) {
		if (g_strcmp0 (g_ptr_array_index (secrets, i), value) == 0)
			return;
	}
	g_ptr_array_add (secrets, g_strdup (value));
}

/* credentials are the keys that may come from a file (the SDK's KEY / KEY-file convention) */
static void
astra_webhook_collect_secrets (AstraWebhook *self, const AstraWebhookConfig *wc, const char *const *plugin_keys)
{
	g_autoptr(GPtrArray) secrets = g_ptr_array_new_with_free_func (g_free);
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);

	g_ptr_array_add (keys, g_strdup ("secret"));
	for (guint i = 0; plugin_keys != NULL && plugin_keys[i] != NULL; i++) {
		if (g_str_has_suffix (plugin_keys[i], "-file"))
			g_ptr_array_add (keys, g_strndup (plugin_keys[i], strlen (plugin_keys[i]) - strlen ("-file")));
	}
	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index (keys, i);
		g_autofree char *value = astra_key_file_get_secret (wc->keyfile, wc->group, key, NULL);
		g_autoptr(GUri) uri = NULL;
		g_auto(GStrv) parts = NULL;

		if (value == NULL)
			continue;
		g_strstrip (value);
		astra_webhook_add_secret (secrets, value);
		/* several whsec_ secrets side by side, and each without its prefix */
		parts = g_strsplit_set (value, " \t\r\n", -1);
		for (guint j = 0; parts[j] != NULL; j++) {
			astra_webhook_add_secret (secrets, parts[j]);
			if (g_str_has_prefix (parts[j], "whsec_"))
				astra_webhook_add_secret (secrets, parts[j] + strlen ("whsec_"));
		}
		/* Slack, Discord and Teams put the credential in the URL's path */
		uri = g_uri_parse (value, G_URI_FLAGS_NONE, NULL);
		if (uri != NULL) {
			astra_webhook_add_secret (secrets, g_uri_get_path (uri));
			astra_webhook_add_secret (secrets, g_uri_get_query (uri));
			astra_webhook_add_secret (secrets, g_uri_get_userinfo (uri));
		}
	}
	/* the longest first, so that a secret inside another is blanked out with it */
	g_ptr_array_sort (secrets, astra_webhook_compare_length);
	g_ptr_array_add (secrets, NULL);
	self->secrets = (GStrv) g_ptr_array_free (g_steal_pointer (&secrets), FALSE);
}

AstraWebhook *
astra_webhook_new (AstraConfig *config,
		   const AstraWebhookConfig *wc,
		   AstraPluginLoader *loader,
		   GPtrArray *errors)
{
	g_autoptr(AstraWebhook) self = g_object_new (ASTRA_TYPE_WEBHOOK, NULL);
	g_autoptr(GError) error_local = NULL;
	g_auto(GStrv) keys = NULL;
	g_autofree char *severity = NULL;
	const char *const *plugin_keys;
	guint n_errors = errors->len;

	self->name = g_strdup (wc->name);
	self->plugin_name = g_key_file_get_string (wc->keyfile, wc->group, "plugin", NULL);
	if (self->plugin_name == NULL)
		astra_webhook_add_error (config, wc, "plugin", errors,
					 "missing (e.g. plugin = generic)");

	if (g_key_file_has_key (wc->keyfile, wc->group, "enabled", NULL)) {
		self->enabled = g_key_file_get_boolean (wc->keyfile, wc->group, "enabled", &error_local);
		if (error_local != NULL) {
			astra_webhook_add_error (config, wc, "enabled", errors, "expected true or false");
			g_clear_error (&error_local);
		}
	}
	if (g_key_file_has_key (wc->keyfile, wc->group, "timeout", NULL)) {
		g_autofree char *value = g_key_file_get_string (wc->keyfile, wc->group, "timeout", NULL);
		guint64 seconds = 0;
		if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 1, 300, &seconds, NULL))
			astra_webhook_add_error (config, wc, "timeout", errors,
						 "expected a number of seconds from 1 to 300");
		else
			self->timeout = (guint) seconds;
	}
	severity = g_key_file_get_string (wc->keyfile, wc->group, "min-severity", NULL);
	if (severity != NULL && !astra_severity_from_string (severity, &self->min_severity))
		astra_webhook_add_error (config, wc, "min-severity", errors,
					 "'%s' is not a severity (info, warning, error, critical)", severity);
	astra_webhook_parse_events (self, config, wc, errors);
	astra_webhook_parse_signer (self, config, wc, errors);
	astra_webhook_parse_policy (self, config, wc, errors);
	if (self->plugin_name == NULL)
		return NULL;

	self->plugin = astra_plugin_loader_create (loader, self->plugin_name, &error_local);
	if (self->plugin == NULL) {
		astra_webhook_add_error (config, wc, "plugin", errors, "%s", error_local->message);
		return NULL;
	}

	/* a misspelt key would otherwise be ignored without a word */
	plugin_keys = astra_plugin_get_config_keys (self->plugin);
	keys = g_key_file_get_keys (wc->keyfile, wc->group, NULL, NULL);
	for (guint i = 0; plugin_keys != NULL && keys != NULL && keys[i] != NULL; i++) {
		if (!g_strv_contains (astra_webhook_core_keys, keys[i]) &&
		    !g_strv_contains (plugin_keys, keys[i]))
			astra_webhook_add_error (config, wc, keys[i], errors,
						 "unknown key for plugin %s", self->plugin_name);
	}

	if (!astra_plugin_configure (self->plugin, wc->keyfile, wc->group, &error_local)) {
		const char *sep = strstr (error_local->message, ": ");
		g_autofree char *key = sep != NULL ? g_strndup (error_local->message, (gsize) (sep - error_local->message)) : NULL;
		g_autofree char *file_key = key != NULL ? g_strdup_printf ("%s-file", key) : NULL;

		/* plugins name the key first, as the SDK asks: locate the error there */
		if (key != NULL && g_key_file_has_key (wc->keyfile, wc->group, key, NULL))
			astra_webhook_add_error (config, wc, key, errors, "%s", sep + 2);
		else if (file_key != NULL && g_key_file_has_key (wc->keyfile, wc->group, file_key, NULL))
			astra_webhook_add_error (config, wc, file_key, errors, "%s", sep + 2);
		else
			astra_webhook_add_error (config, wc, NULL, errors, "%s", error_local->message);
	}

	if (errors->len > n_errors)
		return NULL;
	astra_webhook_collect_secrets (self, wc, plugin_keys);
	return g_steal_pointer (&self);
}

GPtrArray *
astra_webhook_build_all (AstraConfig *config, AstraPluginLoader *loader, GPtrArray *errors)
{
	GPtrArray *configs = astra_config_get_webhooks (config);
	g_autoptr(GPtrArray) webhooks = g_ptr_array_new_with_free_func (g_object_unref);
	guint n_errors = errors->len;

	for (guint i = 0; i < configs->len; i++) {
		AstraWebhook *webhook = astra_webhook_new (config, g_ptr_array_index (configs, i), loader, errors);
		if (webhook != NULL)
			g_ptr_array_add (webhooks, webhook);
	}
	if (errors->len > n_errors)
		return NULL;
	return g_steal_pointer (&webhooks);
}

const char *
astra_webhook_get_name (AstraWebhook *self)
{
	return self->name;
}

const char *
astra_webhook_get_plugin_name (AstraWebhook *self)
{
	return self->plugin_name;
}

AstraPlugin *
astra_webhook_get_plugin (AstraWebhook *self)
{
	return self->plugin;
}

gboolean
astra_webhook_get_enabled (AstraWebhook *self)
{
	return self->enabled;
}

void
astra_webhook_disable (AstraWebhook *self, const char *reason)
{
	self->enabled = FALSE;
	g_free (self->disabled_reason);
	self->disabled_reason = g_strdup (reason);
}

void
astra_webhook_enable (AstraWebhook *self)
{
	self->enabled = TRUE;
	g_clear_pointer (&self->disabled_reason, g_free);
}

const char *
astra_webhook_get_disabled_reason (AstraWebhook *self)
{
	return self->disabled_reason;
}

const char *const *
astra_webhook_get_events (AstraWebhook *self)
{
	return (const char *const *) self->events;
}

AstraSeverity
astra_webhook_get_min_severity (AstraWebhook *self)
{
	return self->min_severity;
}

guint
astra_webhook_get_timeout (AstraWebhook *self)
{
	return self->timeout;
}

AstraSigner *
astra_webhook_get_signer (AstraWebhook *self)
{
	return self->signer;
}

const AstraDeliveryPolicy *
astra_webhook_get_policy (AstraWebhook *self)
{
	return &self->policy;
}

const char *const *
astra_webhook_get_secrets (AstraWebhook *self)
{
	return (const char *const *) self->secrets;
}

/**
 * astra_webhook_redact:
 * @self: an #AstraWebhook
 * @text: (nullable): text that may hold the webhook's credentials
 *
 * Returns: (transfer full) (nullable): @text with each of the webhook's
 *   credentials (astra_webhook_get_secrets()) replaced by "[redacted]"
 *
 * Since: 1.0
 */
char *
astra_webhook_redact (AstraWebhook *self, const char *text)
{
	g_autoptr(GString) str = NULL;

	if (text == NULL)
		return NULL;
	str = g_string_new (text);
	for (guint i = 0; self->secrets != NULL && self->secrets[i] != NULL; i++)
		g_string_replace (str, self->secrets[i], ASTRA_WEBHOOK_REDACTED, 0);
	return g_string_free (g_steal_pointer (&str), FALSE);
}

gboolean
astra_webhook_wants (AstraWebhook *self, AstraEvent *event)
{
	AstraEventKind kind = astra_event_get_kind (event);

	if (!self->enabled)
		return FALSE;
	if ((self->kind_mask & (1u << kind)) == 0)
		return FALSE;
	return astra_event_get_severity (event) >= self->min_severity;
}
