/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "astra.h"
#include "astra-config.h"
#include "astra-plugin-loader.h"

G_BEGIN_DECLS

#define ASTRA_WEBHOOK_DEFAULT_TIMEOUT 10
#define ASTRA_WEBHOOK_DEFAULT_MAX_IN_FLIGHT 16
#define ASTRA_WEBHOOK_DEFAULT_BREAKER_FAILURES 5
#define ASTRA_WEBHOOK_DEFAULT_BREAKER_COOLDOWN_S 30

/* a webhook's delivery settings, from its group: retry-schedule, max-age, rate-limit,
 * max-in-flight, breaker-failures, breaker-cooldown; defaults per plugin */
typedef struct {
	GArray *retry_schedule_us;  /* gint64: the wait before attempt 2, 3, ...; its length + 1 attempts in all */
	gint64 max_age_us;          /* a delivery older than this is dead; 0: no limit */
	guint rate_count;           /* at most this many attempts in any rate_period_us; 0: unlimited */
	gint64 rate_period_us;
	guint max_in_flight;
	guint breaker_failures;     /* consecutive failures that open the circuit */
	gint64 breaker_cooldown_us; /* the first open period, doubled while probes fail */
} AstraDeliveryPolicy;

#define ASTRA_TYPE_WEBHOOK (astra_webhook_get_type ())
G_DECLARE_FINAL_TYPE (AstraWebhook, astra_webhook, ASTRA, WEBHOOK, GObject)

/* builds and configures one webhook; problems are appended to errors, located in its file */
AstraWebhook *astra_webhook_new (AstraConfig *config,
				 const AstraWebhookConfig *wc,
				 AstraPluginLoader *loader,
				 GPtrArray *errors);
/* every webhook of config, or NULL if any is invalid */
GPtrArray *astra_webhook_build_all (AstraConfig *config, AstraPluginLoader *loader, GPtrArray *errors);

const char *astra_webhook_get_name (AstraWebhook *self);
const char *astra_webhook_get_plugin_name (AstraWebhook *self);
AstraPlugin *astra_webhook_get_plugin (AstraWebhook *self);
gboolean astra_webhook_get_enabled (AstraWebhook *self);
/* a destination that answered "gone" is switched off until the config is reloaded; reason is kept for status */
void astra_webhook_disable (AstraWebhook *self, const char *reason);
const char *astra_webhook_get_disabled_reason (AstraWebhook *self);
/* an admin re-enabled a webhook a GONE answer disabled */
void astra_webhook_enable (AstraWebhook *self);
const char *const *astra_webhook_get_events (AstraWebhook *self);
AstraSeverity astra_webhook_get_min_severity (AstraWebhook *self);
guint astra_webhook_get_timeout (AstraWebhook *self);
AstraSigner *astra_webhook_get_signer (AstraWebhook *self);
const AstraDeliveryPolicy *astra_webhook_get_policy (AstraWebhook *self);
/* the credentials in its configuration, to blank out of anything shown to people (RenderEvent):
 * the secret(s), and the value of every key that may also be given as KEY-file (url,
 * routing-key, ...), with a URL's path and query on their own as well */
const char *const *astra_webhook_get_secrets (AstraWebhook *self);
/* what blanked-out credentials and signatures read as */
#define ASTRA_WEBHOOK_REDACTED "[redacted]"
/* text with each of the webhook's credentials replaced by ASTRA_WEBHOOK_REDACTED (a new string) */
char *astra_webhook_redact (AstraWebhook *self, const char *text);
/* enabled, subscribed to the event's type and at or above min-severity */
gboolean astra_webhook_wants (AstraWebhook *self, AstraEvent *event);

G_END_DECLS
