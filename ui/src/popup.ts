import { mount } from 'svelte';
import './app.css';
import Popup from './popup/Popup.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');

export default mount(Popup, { target });
