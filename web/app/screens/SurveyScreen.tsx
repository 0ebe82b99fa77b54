import { type FormEvent, useRef, useState } from 'react';
import { ApiError } from '../../shared/api.ts';
import { haptic } from '../../shared/telegram.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import { useApp } from '../context.tsx';
import { ChoiceField, focusFirst, TextField } from '../fields.tsx';
import {
  CHOICES,
  EMPTY_SURVEY,
  EQUIPMENT,
  NUMBER_FIELDS,
  type NumberField,
  SURVEY_FIELDS,
  type SurveyField,
  type SurveyForm,
  surveyAnswers,
  validateSurvey,
} from '../survey-rules.ts';
import { problemText } from '../texts.ts';
import { type Errors, hasErrors, serverErrors } from '../validation.ts';
import { ScreenTitle } from './ScreenTitle.tsx';

/** The intake survey: every field of the API's schema, checked here by the same rules before sending. */
export function SurveyScreen() {
  const { api, t, language, nav, refreshMe } = useApp();
  const [form, setForm] = useState<SurveyForm>(EMPTY_SURVEY);
  const [tried, setTried] = useState(false);
  const [serverProblems, setServerProblems] = useState<Errors<SurveyField>>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [sending, setSending] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const local = tried ? validateSurvey(form) : {};
  const errors: Errors<SurveyField> = { ...serverProblems, ...local };
  const message = (field: SurveyField) => problemText(language, errors[field]);

  const set = <K extends SurveyField>(field: K, value: SurveyForm[K]) => {
    setForm((previous) => ({ ...previous, [field]: value }));
    setServerProblems((previous) => ({ ...previous, [field]: undefined }));
  };

  async function submit(event?: FormEvent) {
    event?.preventDefault();
    if (sending) return;
    setTried(true);
    setFailure(undefined);
    const problems = validateSurvey(form);
    if (hasErrors(problems)) {
      haptic('error');
      // After React has rendered the messages, so the focused control announces its problem.
      setTimeout(() => focusFirst(formRef.current, SURVEY_FIELDS, problems), 0);
      return;
    }
    setSending(true);
    try {
      const accepted = await api.send<{ plan: { id: string } }>('POST', '/api/surveys', {
        answers: surveyAnswers(form),
      });
      haptic('success');
      void refreshMe().catch(() => {});
      nav.replace({ name: 'plan', planId: accepted.plan.id });
    } catch (caught) {
      haptic('error');
      if (caught instanceof ApiError && caught.status === 400 && caught.details.length > 0) {
        const mapped = serverErrors(caught.details, SURVEY_FIELDS, 'answers.');
        setServerProblems(mapped.errors);
        setFailure(mapped.other.length ? new ApiError(400, caught.code, mapped.other.join(' ')) : undefined);
        setTimeout(() => focusFirst(formRef.current, SURVEY_FIELDS, mapped.errors), 0);
      } else {
        setFailure(caught);
      }
      setSending(false);
    }
  }

  useMainButton({ text: t.submit, loading: sending, onClick: () => void submit() });

  const invalid = hasErrors(errors);
  const number = (field: NumberField) => (
    <TextField
      id={field}
      label={t.fields[field]}
      value={form[field]}
      inputMode={NUMBER_FIELDS[field].integer ? 'numeric' : 'decimal'}
      onChange={(value) => set(field, value)}
      error={message(field)}
      disabled={sending}
    />
  );
  const choice = (field: keyof typeof CHOICES) => (
    <ChoiceField
      id={field}
      legend={t.fields[field]}
      options={CHOICES[field]}
      labels={t.options}
      value={form[field]}
      onChange={(value) => set(field, value as string)}
      error={message(field)}
      disabled={sending}
    />
  );

  return (
    <>
      <ScreenTitle>{t.surveyTitle}</ScreenTitle>
      <p className="hint">{t.surveyIntro}</p>
      <form ref={formRef} className="stack" noValidate onSubmit={submit} aria-busy={sending}>
        {choice('goal')}
        {choice('sex')}
        <div className="grid-2">
          {number('age')}
          {number('heightCm')}
          {number('weightKg')}
        </div>
        {choice('activityLevel')}
        {choice('experience')}
        <div className="grid-2">
          {number('daysPerWeek')}
          {number('sessionMinutes')}
        </div>
        <ChoiceField
          id="equipment"
          legend={t.fields.equipment}
          options={EQUIPMENT}
          labels={t.options}
          multiple
          value={form.equipment}
          onChange={(value) => set('equipment', value as string[])}
          error={message('equipment')}
          disabled={sending}
        />
        {(['injuries', 'notes'] as const).map((field) => (
          <TextField
            key={field}
            id={field}
            label={`${t.fields[field]} ${t.optional}`}
            value={form[field]}
            multiline
            onChange={(value) => set(field, value)}
            error={message(field)}
            disabled={sending}
          />
        ))}
        {invalid && (
          <div className="banner error" role="alert">
            {t.fixErrors}
          </div>
        )}
        <ErrorBanner error={failure} fallback={t.networkError} />
        {sending && <Spinner label={t.submitting} />}
        <button type="submit" disabled={sending}>
          {t.submit}
        </button>
      </form>
    </>
  );
}
