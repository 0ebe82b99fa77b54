import { type FormEvent, useRef, useState } from 'react';
import { ApiError } from '../../shared/api.ts';
import { haptic } from '../../shared/telegram.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { ErrorBanner } from '../../shared/ui.tsx';
import type { TestResult } from '../api-types.ts';
import {
  type CheckInField,
  checkInBody,
  emptyCheckIn,
  type CheckInForm as Form,
  RESULT_FIELDS,
  RESULT_KEYS,
  TEST_KINDS,
  validateCheckIn,
} from '../check-in-rules.ts';
import { useApp } from '../context.tsx';
import { ChoiceField, focusFirst, TextField } from '../fields.tsx';
import { problemText } from '../texts.ts';
import { type Errors, hasErrors, serverErrors } from '../validation.ts';

const ORDER: readonly CheckInField[] = [...RESULT_KEYS, 'notes'];

/** Records a check-in or fitness test (POST /api/test-results), checked by the API's own bounds first. */
export function CheckInForm({ onSaved }: { onSaved(result: TestResult): void }) {
  const { api, t, language } = useApp();
  const [form, setForm] = useState<Form>(emptyCheckIn);
  const [tried, setTried] = useState(false);
  const [serverProblems, setServerProblems] = useState<Errors<CheckInField>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [sending, setSending] = useState(false);
  const [saved, setSaved] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const errors: Errors<CheckInField> = { ...serverProblems, ...(tried ? validateCheckIn(form) : {}) };
  const message = (field: CheckInField) => problemText(language, errors[field]);

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    if (sending) return;
    setTried(true);
    setSaved(false);
    setFailure(undefined);
    const problems = validateCheckIn(form);
    if (hasErrors(problems)) {
      haptic('error');
      // None filled in: the first result takes the focus.
      const target = problems.results ? { weightKg: problems.results } : problems;
      setTimeout(() => focusFirst(formRef.current, ORDER, target), 0);
      return;
    }
    setSending(true);
    try {
      const result = await api.send<TestResult>('POST', '/api/test-results', checkInBody(form));
      haptic('success');
      setForm(emptyCheckIn());
      setTried(false);
      setServerProblems({});
      setSaved(true);
      onSaved(result);
    } catch (caught) {
      haptic('error');
      if (caught instanceof ApiError && caught.status === 400 && caught.details.length > 0) {
        const byResult = serverErrors(caught.details, ORDER, 'results.');
        setServerProblems(byResult.errors);
        setFailure(
          byResult.other.length ? new ApiError(400, caught.code, byResult.other.join(' ')) : undefined,
        );
      } else {
        setFailure(caught);
      }
    } finally {
      setSending(false);
    }
  }

  useMainButton({ text: t.saveCheckIn, loading: sending, onClick: () => void submit() });

  return (
    <form ref={formRef} className="section stack" noValidate onSubmit={submit} aria-labelledby="new-entry">
      <h2 id="new-entry">{t.newCheckIn}</h2>
      <ChoiceField
        id="kind"
        legend={t.kind}
        options={TEST_KINDS}
        labels={t.kinds}
        value={form.kind}
        onChange={(kind) => setForm((previous) => ({ ...previous, kind: kind as Form['kind'] }))}
        disabled={sending}
      />
      {errors.results ? (
        <div className="field-error" role="alert">
          {t.resultsHint}
        </div>
      ) : (
        <p className="hint">{t.resultsHint}</p>
      )}
      <div className="grid-2">
        {RESULT_KEYS.map((key) => (
          <TextField
            key={key}
            id={key}
            label={t.results[key] ?? key}
            value={form.values[key]}
            inputMode={RESULT_FIELDS[key].integer ? 'numeric' : 'decimal'}
            onChange={(value) => {
              setForm((previous) => ({ ...previous, values: { ...previous.values, [key]: value } }));
              setServerProblems((previous) => ({ ...previous, [key]: undefined }));
            }}
            error={message(key)}
            disabled={sending}
          />
        ))}
      </div>
      <TextField
        id="notes"
        label={`${t.checkInNotes} ${t.optional}`}
        value={form.notes}
        multiline
        onChange={(notes) => setForm((previous) => ({ ...previous, notes }))}
        error={message('notes')}
        disabled={sending}
      />
      <ErrorBanner error={failure} fallback={t.networkError} />
      <div role="status" aria-live="polite">
        {saved && <p className="success-text">{t.saved}</p>}
      </div>
      <button type="submit" disabled={sending}>
        {sending ? t.saving : t.saveCheckIn}
      </button>
    </form>
  );
}
