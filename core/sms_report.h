/* SMS delivery reports (issue 17): the job sms.reports asks the gateway adapter (the Lua policy
 * sms.gateway:<sms.gateway>, action "report") what became of the SMS it took, and records it on the message
 * (core_messages.delivery, migration 012). */
#ifndef DESTEK_SMS_REPORT_H
#define DESTEK_SMS_REPORT_H

/* Seconds after sending before the first report query (the setting sms.report_after). */
int sms_report_after(void);
int sms_report_init(void);

#endif
