import { describe, expect, it } from 'vitest';
import { redactUrl } from '../src/redact-url.js';

describe('redactUrl', () => {
  it('hides the password of a URL and keeps the rest for the reader', () => {
    expect(redactUrl('postgres://app:hunter2@db.example:5433/scribe?sslmode=verify-full')).toBe(
      'postgres://app:***@db.example:5433/scribe?sslmode=verify-full',
    );
    expect(redactUrl('postgres://app@db/scribe')).toBe('postgres://app@db/scribe');
  });

  it('hides passwords given as query parameters', () => {
    const out = redactUrl('postgresql://db/scribe?user=app&password=hunter2&sslpassword=k3y');
    expect(out).not.toMatch(/hunter2|k3y/);
    expect(out).toContain('password=***');
  });

  it('hides passwords in key=value connection strings', () => {
    expect(redactUrl("host=db user=app password='hun ter2' dbname=x")).toBe('host=db user=app password=*** dbname=x');
    expect(redactUrl('host=db password=hunter2')).toBe('host=db password=***');
  });
});
