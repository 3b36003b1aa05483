import {BindingScope, injectable} from '@loopback/core';
import {AnyObject} from '@loopback/repository';
import {HttpErrors} from '@loopback/rest';

/** Query parameters, `{name}` placeholders of the URL, and headers of one call. */
export interface HttpOptions {
  query?: AnyObject;
  urlParams?: AnyObject;
  headers?: AnyObject;
}

/**
 * The original's small JSON client, on Node's fetch. An answer other than
 * 2xx is thrown as a 400 with the body as its message, as the original did;
 * a 2xx without a JSON body resolves to `{}`.
 */
@injectable({scope: BindingScope.SINGLETON})
export class HttpClientService {
  get<T>(url: string, options?: HttpOptions): Promise<T> {
    return this.call<T>('GET', url, undefined, options);
  }

  delete<T = AnyObject>(url: string, options?: HttpOptions): Promise<T> {
    return this.call<T>('DELETE', url, undefined, options);
  }

  post<T>(url: string, body: AnyObject, options?: HttpOptions): Promise<T> {
    return this.call<T>('POST', url, JSON.stringify(body), {
      ...options,
      headers: {'content-type': 'application/json', ...options?.headers},
    });
  }

  /** Posts a multipart form; fetch sets its content type and boundary. */
  postFormData<T>(
    url: string,
    body: FormData,
    options?: HttpOptions,
  ): Promise<T> {
    return this.call<T>('POST', url, body, options);
  }

  private async call<T>(
    method: string,
    url: string,
    body: string | FormData | undefined,
    options: HttpOptions = {},
  ): Promise<T> {
    const response = await fetch(this.urlOf(url, options), {
      method,
      body,
      headers: options.headers as Record<string, string> | undefined,
    });
    const text = await response.text();
    if (!response.ok) throw new HttpErrors.BadRequest(text);
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      // A 2xx whose body is not JSON: nothing to return, as the original.
      return {} as T;
    }
  }

  private urlOf(url: string, {query, urlParams}: HttpOptions): string {
    let resolved = url;
    for (const [name, value] of Object.entries(urlParams ?? {})) {
      resolved = resolved
        .split(`{${name}}`)
        .join(encodeURIComponent(String(value)));
    }
    if (query && Object.keys(query).length) {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        search.append(name, String(value));
      }
      resolved += `${resolved.includes('?') ? '&' : '?'}${search}`;
    }
    return resolved;
  }
}
